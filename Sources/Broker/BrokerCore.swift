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
        let node = BrokerEndpoint(
            id: config.nodeId, host: config.advertisedListeners[0].host, port: Int32(config.advertisedListeners[0].port), rack: nil)
        try self.init(
            config: config, logger: logger, metadata: try LocalMetadataStore(directory: config.logDirectories[0], node: node),
            producerIds: try ProducerIdAllocator(directory: config.logDirectories[0]))
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

    public func deleteTopic(name: String) async -> Result<TopicMetadata, BrokerError> {
        do throws(BrokerError) {
            let deleted = try await metadata.deleteTopic(named: name)
            await replicas.removePartitions(of: name)
            logger.info("deleted topic \(name)")
            return .success(deleted)
        } catch {
            return .failure(error)
        }
    }

    /// CreatePartitions: grows `name` to `count` partitions (never shrinks).
    public func growTopic(name: String, to count: Int32, validateOnly: Bool) async -> Result<TopicMetadata, BrokerError> {
        guard let topic = await metadata.topic(named: name) else {
            return .failure(BrokerError(.unknownTopicOrPartition, "The topic '\(name)' does not exist."))
        }
        guard count > topic.partitionCount else {
            let message = count == topic.partitionCount
                ? "Topic already has \(count) partitions."
                : "Topic currently has \(topic.partitionCount) partitions, which is higher than the requested \(count)."
            return .failure(BrokerError(.invalidPartitions, message))
        }
        if validateOnly { return .success(topic) }
        do {
            let grown = try await metadata.setPartitionCount(count, of: name)
            try replicas.ensurePartitions(of: grown, indexes: await metadata.hostedPartitions(of: grown))
            logger.info("topic \(name) now has \(count) partitions")
            return .success(grown)
        } catch let error as BrokerError {
            return .failure(error)
        } catch {
            return .failure(BrokerError(.kafkaStorageError, "cannot create the logs of \(name): \(error)"))
        }
    }

    /// Alters a topic's config overrides: `change` maps the current overrides to the new ones, which are
    /// validated before anything is stored. Nil on success, else the error for the resource.
    public func alterTopicConfigs(
        resourceType: Int8, name: String, validateOnly: Bool,
        change: ([String: String]) throws(BrokerError) -> [String: String]
    ) async -> BrokerError? {
        if resourceType == ConfigResourceType.broker.rawValue {
            return BrokerError(.invalidRequest, "Broker configs are static in this server: set them in server.properties and restart.")
        }
        guard resourceType == ConfigResourceType.topic.rawValue else {
            return BrokerError(.invalidRequest, "Unsupported resource type \(resourceType)")
        }
        guard let topic = await metadata.topic(named: name) else {
            return BrokerError(.unknownTopicOrPartition, "Topic \(name) does not exist.")
        }
        do throws(BrokerError) {
            let configs = try change(topic.configs)
            for (key, value) in configs {
                guard let definition = TopicConfigKeys.byName[key] else {
                    throw BrokerError(.invalidConfig, "Unknown topic config name: \(key)")
                }
                do {
                    try definition.validate(value)
                } catch {
                    throw BrokerError(.invalidConfig, error.description)
                }
            }
            if validateOnly { return nil }
            let altered = try await metadata.setConfigs(configs, of: name)
            await replicas.reconfigure(altered)
            return nil
        } catch {
            return error
        }
    }
}
