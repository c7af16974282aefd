import MartletProtocol

/// Where topic metadata lives, and how topics are created (by clients, by auto-creation, by the group
/// coordinator). A single node keeps it in a local file (`LocalMetadataStore`, which `LocalTopicAdmin`
/// also changes in other ways); a broker under the controllers reads the metadata log's image and sends
/// creations to the active controller (`ClusterMetadataStore`), and forwards other admin requests whole.
public protocol MetadataStore: Sendable {
    func allTopics() async -> [TopicMetadata]
    func topic(named name: String) async -> TopicMetadata?
    /// The topic with this id (Fetch v13+, DeleteTopics v6+ name topics by id).
    func topic(withId id: KafkaUUID) async -> TopicMetadata?
    /// Creates the topic (placing replicas as `assignment` says, one broker list per partition, when
    /// given), or fails with the Kafka error a CreateTopics answer carries. `validateOnly` checks without
    /// creating.
    func createTopic(_ topic: TopicMetadata, assignment: [[Int32]]?, validateOnly: Bool) async throws(BrokerError) -> TopicMetadata
    /// The brokers clients may use (registered and not fenced), by id.
    func liveBrokers() async -> [BrokerEndpoint]
    /// Who leads the partition and where its replicas are; nil for a partition the metadata does not know.
    func partitionState(_ topicPartition: TopicPartition) async -> PartitionState?
    /// The partitions of `topic` with a replica on this node.
    func hostedPartitions(of topic: TopicMetadata) async -> [Int32]
}

/// A broker as clients reach it: its id and the endpoint of the listener clients use.
public struct BrokerEndpoint: Hashable, Sendable {
    public var id: Int32
    public var host: String
    public var port: Int32
    public var rack: String?
}

/// A partition's leadership and replicas as Metadata reports them.
public struct PartitionState: Hashable, Sendable {
    /// The leading broker, -1 when the partition has no live leader.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var replicas: [Int32]
    public var isr: [Int32]
    /// Replicas on brokers that are not live.
    public var offlineReplicas: [Int32]
}
