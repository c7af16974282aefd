/// The controller settings that shape its decisions, with Kafka's names and defaults.
public struct ControllerConfig: Sendable {
    /// The cluster this controller belongs to; registrations naming another are refused.
    public var clusterId: String
    /// `broker.session.timeout.ms`: a broker silent this long is fenced.
    public var brokerSessionTimeoutMs: Int64 = 9000
    /// `num.partitions`: used when CreateTopics asks for -1 partitions.
    public var defaultPartitions: Int32 = 1
    /// `default.replication.factor`: used when CreateTopics asks for a replication factor of -1.
    public var defaultReplicationFactor: Int16 = 1
    /// `delete.topic.enable`: when false, DeleteTopics answers TOPIC_DELETION_DISABLED.
    public var deleteTopicEnable = true
    /// How topic config names and values are checked; the broker supplies its table.
    public var topicConfigs: TopicConfigSchema

    public init(clusterId: String, topicConfigs: TopicConfigSchema) {
        self.clusterId = clusterId
        self.topicConfigs = topicConfigs
    }
}
