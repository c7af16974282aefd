import Logging
import MartletProtocol

/// The state every handler works on: the configuration, topic metadata, and the partitions this node hosts.
public final class BrokerCore: Sendable {
    public let config: BrokerConfig
    public let logger: Logger
    public let clusterId: String
    public let metadata: any MetadataStore

    public init(config: BrokerConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        clusterId = try MetaProperties.ensure(
            directories: config.logDirectories, nodeId: config.nodeId, configuredClusterId: config.clusterId)
        metadata = try LocalMetadataStore(directory: config.logDirectories[0])
    }

    /// Creates a topic with the broker's defaults where nil, validating as CreateTopics does.
    public func createTopic(
        name: String, partitions: Int32?, replicationFactor: Int16?, configs: [String: String], validateOnly: Bool = false
    ) async -> Result<TopicMetadata, MetadataError> {
        if let problem = TopicName.problem(with: name) {
            return .failure(MetadataError(.invalidTopicException, problem))
        }
        let partitionCount = partitions ?? config.numPartitions
        guard partitionCount >= 1 else {
            return .failure(MetadataError(.invalidPartitions, "Number of partitions must be larger than 0."))
        }
        let factor = replicationFactor ?? config.defaultReplicationFactor
        guard factor >= 1 else {
            return .failure(MetadataError(.invalidReplicationFactor, "Replication factor must be larger than 0."))
        }
        guard factor <= 1 else {
            return .failure(MetadataError(
                .invalidReplicationFactor, "Unable to replicate the partition \(factor) time(s): The target replication factor of \(factor) cannot be reached because only 1 broker(s) are registered."))
        }
        for (key, value) in configs {
            guard let definition = TopicConfigKeys.byName[key] else {
                return .failure(MetadataError(.invalidConfig, "Unknown topic config name: \(key)"))
            }
            do {
                try definition.validate(value)
            } catch {
                return .failure(MetadataError(.invalidConfig, error.description))
            }
        }
        let topic = TopicMetadata(name: name, id: .random(), partitionCount: partitionCount, replicationFactor: factor, configs: configs)
        if validateOnly {
            if await metadata.topic(named: name) != nil {
                return .failure(MetadataError(.topicAlreadyExists, "Topic '\(name)' already exists."))
            }
            return .success(topic)
        }
        do {
            let created = try await metadata.createTopic(topic)
            logger.info("created topic \(name) with \(partitionCount) partition(s)")
            return .success(created)
        } catch {
            return .failure(error)
        }
    }
}
