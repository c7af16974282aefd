import Logging
import MartletProtocol
import MartletReplication

/// The classic group coordinator of this node: finds the shard (the `__consumer_offsets` partition) of a
/// group, creates the offsets topic on the first FindCoordinator as Kafka does, and loads the groups of
/// each partition this node leads before serving them (a single node leads them all; under the
/// controllers the metadata log says which, and `adopt` follows it). Group requests are few (joins,
/// heartbeats, commits every few seconds per member), so routing through one actor costs nothing that
/// matters.
public actor GroupCoordinator {
    public static let offsetsTopic = "__consumer_offsets"

    private let broker: BrokerCore
    private let config: GroupCoordinatorConfig
    private var shards: [Int32: GroupCoordinatorShard] = [:]
    /// Partitions whose groups are being read from the log.
    private var loading: Set<Int32> = []
    /// The partitions this node last heard it leads; a load that finishes after losing its partition is dropped.
    private var led: Set<Int32> = []
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
    /// exists, after shutdown or when another broker leads the group's partition,
    /// COORDINATOR_LOAD_IN_PROGRESS while its partition is loading.
    func shard(for groupId: String) async -> Result<GroupCoordinatorShard, BrokerError> {
        guard !isClosed else { return .failure(BrokerError(.notCoordinator, "This node is shutting down.")) }
        if partitionCount == nil { await setUp(creatingTopic: false) }
        guard let partitionCount else { return .failure(BrokerError(.notCoordinator, "\(Self.offsetsTopic) is not available yet.")) }
        let index = GroupPartitioner.partition(for: groupId, partitionCount: partitionCount)
        guard let shard = shards[index] else {
            if loading.contains(index) {
                return .failure(BrokerError(.coordinatorLoadInProgress, "\(Self.offsetsTopic)-\(index) is loading."))
            }
            return .failure(BrokerError(.notCoordinator, "This broker does not lead \(Self.offsetsTopic)-\(index)."))
        }
        return .success(shard)
    }

    /// Every loaded shard (ListGroups asks all of them).
    func allShards() -> [GroupCoordinatorShard] {
        shards.keys.sorted().compactMap { shards[$0] }
    }

    /// FindCoordinator for a group: makes sure the offsets topic exists, and answers the broker leading
    /// the group's partition; when that is this node, only once the partition's groups are loaded.
    func coordinator(for groupId: String) async -> Result<Int32, BrokerError> {
        guard !isClosed else { return .failure(BrokerError(.coordinatorNotAvailable, "The coordinator is shutting down.")) }
        if partitionCount == nil, let error = await setUp(creatingTopic: true) { return .failure(error) }
        guard let partitionCount else { return .failure(BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic) is not available yet.")) }
        let index = GroupPartitioner.partition(for: groupId, partitionCount: partitionCount)
        let leader = await broker.metadata.partitionState(TopicPartition(Self.offsetsTopic, index))?.leader ?? PartitionRegistration.noLeader
        guard leader != PartitionRegistration.noLeader else {
            return .failure(BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic)-\(index) has no leader."))
        }
        if leader == broker.config.nodeId, case .failure(let error) = await shard(for: groupId) { return .failure(error) }
        return .success(leader)
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

    /// Loads the partitions of the offsets topic this node leads; the topic counts as set up once they are.
    /// Under the controllers the metadata reconciler alone calls `adopt`, in image order (it has already
    /// run for an image that shows the topic by the time a creation returns), so here that is only waited
    /// for: a second caller with an older view could undo its newer adoption.
    private func load(_ topic: TopicMetadata) async -> BrokerError? {
        if broker.config.isClusterBroker {
            return partitionCount == nil ? BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic) is being loaded.") : nil
        }
        var led: Set<Int32> = []
        for index in 0..<topic.partitionCount {
            let state = await broker.metadata.partitionState(TopicPartition(topic.name, index))
            if state?.leader == broker.config.nodeId { led.insert(index) }
        }
        return await adopt(led: led, partitionCount: topic.partitionCount)
    }

    /// Serves exactly the offsets partitions in `led` (the ones this node leads): loads the groups of new
    /// ones and gives up the others, whose parked calls are answered NOT_COORDINATOR. Returns why a
    /// partition could not be loaded, if one could not.
    @discardableResult
    func adopt(led: Set<Int32>, partitionCount count: Int32) async -> BrokerError? {
        guard !isClosed else { return nil }
        self.led = led
        for index in shards.keys where !led.contains(index) {
            guard let shard = shards.removeValue(forKey: index) else { continue }
            broker.logger.info("no longer coordinating the groups of \(Self.offsetsTopic)-\(index)")
            await shard.close()
        }
        var failure: BrokerError?
        for index in led.sorted() where shards[index] == nil && !loading.contains(index) {
            guard let partition = broker.replicas.partition(TopicPartition(Self.offsetsTopic, index)) else {
                failure = BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic)-\(index) is not open on this node.")
                continue
            }
            loading.insert(index)
            let shard = GroupCoordinatorShard(partition: partition, config: config, logger: broker.logger)
            do {
                try await shard.load()
                if isClosed || !self.led.contains(index) { await shard.close() } else { shards[index] = shard }
            } catch {
                broker.logger.error("cannot load the groups of \(Self.offsetsTopic)-\(index): \(error)")
                failure = BrokerError(.coordinatorNotAvailable, "\(Self.offsetsTopic)-\(index) cannot be loaded: \(error.message)")
            }
            loading.remove(index)
        }
        if failure == nil { partitionCount = count }
        return failure
    }

    /// Gives every partition up before the logs close: parked calls are answered NOT_COORDINATOR.
    public func shutdown() async {
        isClosed = true
        for shard in allShards() { await shard.close() }
        shards.removeAll()
    }
}
