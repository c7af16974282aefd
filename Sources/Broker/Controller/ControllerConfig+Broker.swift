import MartletReplication

extension ControllerConfig {
    /// The controller settings from the process's configuration: the cluster id brokers must present,
    /// the topic defaults CreateTopics falls back to, and the broker's topic config table.
    public init(broker config: BrokerConfig) {
        self.init(clusterId: config.clusterId ?? "", topicConfigs: .topicConfigKeys)
        defaultPartitions = config.numPartitions
        defaultReplicationFactor = config.defaultReplicationFactor
    }
}
