import Logging
import MartletProtocol

/// The classic group coordinator of this node: finds the shard (the `__consumer_offsets` partition) of a
/// group, creates the offsets topic on the first FindCoordinator as Kafka does, and loads each partition's
/// groups before serving them. Group requests are few (joins, heartbeats, commits every few seconds per
/// member), so routing through one actor costs nothing that matters.
public actor GroupCoordinator {
    public static let offsetsTopic = "__consumer_offsets"

    private let broker: BrokerCore
    private let config: GroupCoordinatorConfig
    private var shards: [Int32: GroupCoordinatorShard] = [:]
    /// Partitions of the offsets topic, once it exists.
    private var partitionCount: Int32?
    private var isClosed = false
    /// The load (or creation) of the offsets topic in progress.
    private var setUpTask: Task<BrokerError?, Never>?

    public init(broker: BrokerCore) {
        self.broker = broker
        config = broker.config.groupCoordinator
    }

    /// The coordinator of `groupId`, or the error a group request is answered with: NOT_COORDINATOR
    /// (the client looks the coordinator up again, which creates the topic) before the offsets topic
    /// exists or after shutdown, COORDINATOR_LOAD_IN_PROGRESS while its partition is loading.
    func shard(for groupId: String) async -> Result<GroupCoordinatorShard, BrokerError> {
        guard !isClosed else { return .failure(BrokerError(.notCoordinator, "This node is shutting down.")) }
        if partitionCount == nil { await setUp(creatingTopic: false) }
        guard let partitionCount else { return .failure(BrokerError(.notCoordinator, "\(Self.offsetsTopic) is not available yet.")) }
        let index = GroupPartitioner.partition(for: groupId, partitionCount: partitionCount)
        guard let shard = shards[index] else {
            return .failure(BrokerError(.coordinatorLoadInProgress, "\(Self.offsetsTopic)-\(index) is loading."))
        }
        return .success(shard)
    }

    /// Every loaded shard (ListGroups asks all of them).
    func allShards() -> [GroupCoordinatorShard] {
        shards.keys.sorted().compactMap { shards[$0] }
    }

    /// FindCoordinator for a group: makes sure the offsets topic exists and its partitions are loaded.
    /// Nil when this node coordinates the group, else the error for the answer.
    func prepareToCoordinate(_ groupId: String) async -> BrokerError? {
        guard !isClosed else { return BrokerError(.coordinatorNotAvailable, "The coordinator is shutting down.") }
        if partitionCount == nil, let error = await setUp(creatingTopic: true) { return error }
        if case .failure(let error) = await shard(for: groupId) { return error }
        return nil
    }

    /// Loads the groups of an offsets topic that already exists (at start-up, or one a client created).
    public func loadExistingTopic() async {
        await setUp(creatingTopic: false)
    }

    /// Loads the offsets topic's partitions, creating the topic first if asked; one set-up runs at a time
    /// and concurrent callers wait for it. Returns why it could not finish.
    @discardableResult
    private func setUp(creatingTopic: Bool) async -> BrokerError? {
        if let running = setUpTask { return await running.value }
        if partitionCount != nil { return nil }
        let task = Task { await self.loadOrCreateTopic(creatingTopic: creatingTopic) }
        setUpTask = task
        let error = await task.value
        setUpTask = nil
        return error
    }

    private func loadOrCreateTopic(creatingTopic: Bool) async -> BrokerError? {
        if let topic = await broker.metadata.topic(named: Self.offsetsTopic) {
            return await load(topic)
        }
        guard creatingTopic else { return BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic) does not exist yet.") }
        let created = await broker.createTopic(
            name: Self.offsetsTopic, partitions: config.offsetsTopicPartitions,
            replicationFactor: broker.config.offsetsTopicReplicationFactor,
            configs: [
                "cleanup.policy": "compact", "compression.type": "producer",
                "segment.bytes": String(broker.config.offsetsTopicSegmentBytes),
            ])
        switch created {
        case .success(let topic):
            return await load(topic)
        case .failure(let error):
            broker.logger.warning("cannot create \(Self.offsetsTopic): \(error)")
            return BrokerError(.coordinatorNotAvailable, "The coordinator is not available: \(error.message)")
        }
    }

    /// Loads every partition not loaded yet; the topic counts as set up once all of them are.
    private func load(_ topic: TopicMetadata) async -> BrokerError? {
        var failure: BrokerError?
        for index in 0..<topic.partitionCount where shards[index] == nil {
            guard let partition = broker.replicas.partition(TopicPartition(topic.name, index)) else {
                failure = BrokerError(.coordinatorNotAvailable, "\(topic.name)-\(index) is not open on this node.")
                continue
            }
            let shard = GroupCoordinatorShard(partition: partition, config: config, logger: broker.logger)
            do {
                try await shard.load()
                shards[index] = shard
            } catch {
                broker.logger.error("cannot load the groups of \(topic.name)-\(index): \(error)")
                failure = BrokerError(.coordinatorNotAvailable, "\(topic.name)-\(index) cannot be loaded: \(error.message)")
            }
        }
        if failure == nil { partitionCount = topic.partitionCount }
        return failure
    }

    /// Gives every partition up before the logs close: parked calls are answered NOT_COORDINATOR.
    public func shutdown() async {
        isClosed = true
        for shard in allShards() { await shard.close() }
        shards.removeAll()
    }
}
