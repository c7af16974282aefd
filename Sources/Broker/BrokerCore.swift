import Logging
import MartletProtocol
import MartletReplication

/// The state every handler works on: the configuration, topic metadata, and the partitions this node hosts.
public final class BrokerCore: Sendable {
    public let config: BrokerConfig
    public let logger: Logger
    public let clusterId: String
    public let metadata: any MetadataStore
    public let replicas: ReplicaManager
    public let appendSignal: AppendSignal
    public let producerIds: any ProducerIdSource

    /// A single node: topic metadata and producer ids kept in its first log directory.
    public convenience init(config: BrokerConfig, logger: Logger) throws {
        try self.init(config: config, logger: logger, metadata: try LocalMetadataStore(config: config))
    }

    /// A single node whose topic metadata is `metadata`; producer ids come from its first log directory.
    public convenience init(config: BrokerConfig, logger: Logger, metadata: LocalMetadataStore) throws {
        try self.init(
            config: config, logger: logger, metadata: metadata, producerIds: try ProducerIdAllocator(directory: config.logDirectories[0]))
    }

    /// A node whose topic metadata and producer ids come from elsewhere (the controller quorum).
    public init(config: BrokerConfig, logger: Logger, metadata: any MetadataStore, producerIds: any ProducerIdSource) throws {
        self.config = config
        self.logger = logger
        clusterId = try MetaProperties.ensure(
            directories: config.logDirectories, nodeId: config.nodeId, configuredClusterId: config.clusterId)
        self.metadata = metadata
        appendSignal = AppendSignal()
        replicas = ReplicaManager(config: config, appendSignal: appendSignal, logger: logger)
        self.producerIds = producerIds
    }

    /// Why a partition this node does not host cannot be served: NOT_LEADER_OR_FOLLOWER when the cluster
    /// has it elsewhere (the client refreshes its metadata and goes there), else UNKNOWN_TOPIC_OR_PARTITION.
    public func absentPartitionError(_ topicPartition: TopicPartition) async -> KafkaErrorCode {
        await metadata.partitionState(topicPartition) == nil ? .unknownTopicOrPartition : .notLeaderOrFollower
    }

    /// Opens every partition of every known topic, recovering their logs.
    public func openPartitions() async throws {
        for topic in await metadata.allTopics() {
            try replicas.ensurePartitions(of: topic, indexes: await metadata.hostedPartitions(of: topic))
        }
        replicas.markRunning()
        await replicas.writeCheckpoints()
    }

    /// Creates a topic with the broker's defaults where nil, validating as CreateTopics does.
    public func createTopic(
        name: String, partitions: Int32?, replicationFactor: Int16?, configs: [String: String], assignment: [[Int32]]? = nil,
        validateOnly: Bool = false
    ) async -> Result<TopicMetadata, BrokerError> {
        if let problem = TopicName.problem(with: name) {
            return .failure(BrokerError(.invalidTopicException, problem))
        }
        let partitionCount = partitions ?? config.numPartitions
        guard partitionCount >= 1 else {
            return .failure(BrokerError(.invalidPartitions, "Number of partitions must be larger than 0."))
        }
        let factor = replicationFactor ?? config.defaultReplicationFactor
        guard factor >= 1 else {
            return .failure(BrokerError(.invalidReplicationFactor, "Replication factor must be larger than 0."))
        }
        for (key, value) in configs {
            guard let definition = TopicConfigKeys.byName[key] else {
                return .failure(BrokerError(.invalidConfig, "Unknown topic config name: \(key)"))
            }
            do {
                try definition.validate(value)
            } catch {
                return .failure(BrokerError(.invalidConfig, error.description))
            }
        }
        let topic = TopicMetadata(name: name, id: .random(), partitionCount: partitionCount, replicationFactor: factor, configs: configs)
        do {
            let created = try await metadata.createTopic(topic, assignment: assignment, validateOnly: validateOnly)
            if validateOnly { return .success(created) }
            try replicas.ensurePartitions(of: created, indexes: await metadata.hostedPartitions(of: created))
            logger.info("created topic \(name) with \(created.partitionCount) partition(s)")
            return .success(created)
        } catch let error as BrokerError {
            return .failure(error)
        } catch {
            return .failure(BrokerError(.kafkaStorageError, "cannot create the logs of \(name): \(error)"))
        }
    }
}
