import Foundation
import MartletProtocol
import MartletReplication

/// Topic metadata for a single node, persisted as JSON (`martlet-topics.json` in the first log dir),
/// rewritten atomically (temp file, fsync, rename) on every change so a crash leaves the old or new state.
/// This node is the only broker: it hosts and leads every partition, in leader epoch 0.
public actor LocalMetadataStore: MetadataStore {
    private let path: String
    private let node: BrokerEndpoint
    private var topics: [String: TopicMetadata] {
        didSet { namesById = Dictionary(uniqueKeysWithValues: topics.values.map { ($0.id, $0.name) }) }
    }
    private var namesById: [KafkaUUID: String] = [:]

    /// The store of a single node configured by `config`: in its first log directory, itself the only broker.
    public init(config: BrokerConfig) throws {
        let listener = config.advertisedListeners[0]
        try self.init(
            directory: config.logDirectories[0],
            node: BrokerEndpoint(id: config.nodeId, host: listener.host, port: Int32(listener.port), rack: nil))
    }

    public init(directory: String, node: BrokerEndpoint) throws {
        self.node = node
        path = directory + "/martlet-topics.json"
        if let data = FileManager.default.contents(atPath: path) {
            let list = try JSONDecoder().decode([TopicMetadata].self, from: data)
            topics = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
        } else {
            topics = [:]
        }
        namesById = Dictionary(uniqueKeysWithValues: topics.values.map { ($0.id, $0.name) })
    }

    public func allTopics() -> [TopicMetadata] { topics.values.sorted { $0.name < $1.name } }

    public func topic(named name: String) -> TopicMetadata? { topics[name] }

    public func topic(withId id: KafkaUUID) -> TopicMetadata? { namesById[id].flatMap { topics[$0] } }

    public func createTopic(_ topic: TopicMetadata, assignment: [[Int32]]?, validateOnly: Bool) throws(BrokerError) -> TopicMetadata {
        guard topics[topic.name] == nil else {
            throw BrokerError(.topicAlreadyExists, "Topic '\(topic.name)' already exists.")
        }
        if let existing = topics.keys.first(where: { TopicName.collides(topic.name, with: $0) }) {
            throw BrokerError(.invalidTopicException, "Topic '\(topic.name)' collides with existing topic: \(existing)")
        }
        guard topic.replicationFactor <= 1 else {
            throw BrokerError(
                .invalidReplicationFactor, "Unable to replicate the partition \(topic.replicationFactor) time(s): The target replication factor of \(topic.replicationFactor) cannot be reached because only 1 broker(s) are registered.")
        }
        if let assignment, let bad = assignment.indices.first(where: { assignment[$0] != [node.id] }) {
            throw BrokerError(.invalidReplicaAssignment, "Invalid replica assignment for partition \(bad): \(assignment[bad])")
        }
        if validateOnly { return topic }
        topics[topic.name] = topic
        try persist()
        return topic
    }

    public func deleteTopic(named name: String) throws(BrokerError) -> TopicMetadata {
        guard let topic = topics.removeValue(forKey: name) else {
            throw BrokerError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        try persist()
        return topic
    }

    public func setPartitionCount(_ count: Int32, of name: String) throws(BrokerError) -> TopicMetadata {
        guard var topic = topics[name] else {
            throw BrokerError(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
        }
        topic.partitionCount = count
        topics[name] = topic
        try persist()
        return topic
    }

    /// Replaces the topic's config overrides with `configs`.
    public func setConfigs(_ configs: [String: String], of name: String) throws(BrokerError) -> TopicMetadata {
        guard var topic = topics[name] else {
            throw BrokerError(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
        }
        topic.configs = configs
        topics[name] = topic
        try persist()
        return topic
    }

    public func liveBrokers() -> [BrokerEndpoint] { [node] }

    public func partitionState(_ topicPartition: TopicPartition) -> PartitionState? {
        guard let topic = topics[topicPartition.topic], (0..<topic.partitionCount).contains(topicPartition.partition) else { return nil }
        return PartitionState(leader: node.id, leaderEpoch: 0, replicas: [node.id], isr: [node.id], offlineReplicas: [])
    }

    public func hostedPartitions(of topic: TopicMetadata) -> [Int32] { Array(0..<topic.partitionCount) }

    private func persist() throws(BrokerError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(allTopics()), to: path)
        } catch {
            throw BrokerError(.kafkaStorageError, "cannot persist topic metadata: \(error)")
        }
    }
}
