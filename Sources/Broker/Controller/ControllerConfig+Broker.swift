import MartletReplication

extension ControllerConfig {
    /// The controller settings from the process's configuration: the cluster id brokers must present,
    /// how long a broker may stay silent before it is fenced, the topic defaults CreateTopics falls back
    /// to, and the broker's topic config table.
    public init(broker config: BrokerConfig) {
        self.init(clusterId: config.clusterId ?? "", topicConfigs: .topicConfigKeys)
        defaultPartitions = config.numPartitions
        defaultReplicationFactor = config.defaultReplicationFactor
        brokerSessionTimeoutMs = config.brokerSessionTimeoutMs
        deleteTopicEnable = config.deleteTopicEnable
    }
}
