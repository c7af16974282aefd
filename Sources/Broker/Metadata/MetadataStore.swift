import MartletProtocol

/// Where topic metadata lives. One node keeps it in a local file (`LocalMetadataStore`); in a cluster the
/// controller quorum's metadata log takes this role, behind the same interface.
public protocol MetadataStore: Sendable {
    func allTopics() async -> [TopicMetadata]
    func topic(named name: String) async -> TopicMetadata?
    /// The topic with this id (Fetch v13+, DeleteTopics v6+ name topics by id).
    func topic(withId id: KafkaUUID) async -> TopicMetadata?
    /// Creates the topic, or fails with the Kafka error a CreateTopics answer carries.
    func createTopic(_ topic: TopicMetadata) async throws(BrokerError) -> TopicMetadata
    func deleteTopic(named name: String) async throws(BrokerError) -> TopicMetadata
    func setPartitionCount(_ count: Int32, of name: String) async throws(BrokerError) -> TopicMetadata
    func setConfigs(_ configs: [String: String], of name: String) async throws(BrokerError) -> TopicMetadata
}
