import Logging
import MartletProtocol
import MartletReplication
import Synchronization

/// What a broker under the controllers runs besides a single node's parts: a Raft observer that keeps
/// a local copy of `__cluster_metadata` and applies it, the reconciler that makes the partitions and
/// the group coordinator follow the image, the channel to the active controller, and the lifecycle that
/// registers and heartbeats.
final class ClusterMembership: Sendable {
    let store: ClusterMetadataStore
    let producerIds: ControllerProducerIds
    let lifecycle: BrokerLifecycle
    private let follower: RaftDriver
    let channel: ControllerChannel
    private let images: AsyncStream<MetadataImage>
    /// The reconciler and the lifecycle, cancelled together at shutdown.
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let logger: Logger

    init(config: BrokerConfig, logger: Logger) throws {
        let (images, continuation) = AsyncStream.makeStream(of: MetadataImage.self, bufferingPolicy: .bufferingNewest(1))
        let applier = MetadataImageApplier(logger: logger, onChange: { continuation.yield($0) })
        let follower = try RaftDriver(config: config, applier: applier, logger: logger)
        let channel = ControllerChannel(config: config, knownLeader: { await follower.status.leaderId }, logger: logger)
        let store = ClusterMetadataStore(config: config, channel: channel)
        let lifecycle = BrokerLifecycle(
            config: config, channel: channel, appliedOffset: { await store.current.lastAppliedOffset }, logger: logger)
        self.images = images
        self.follower = follower
        self.channel = channel
        self.store = store
        self.lifecycle = lifecycle
        producerIds = ControllerProducerIds(brokerId: config.nodeId, channel: channel, lifecycle: lifecycle)
        self.logger = logger
    }

    /// Starts following the metadata log, reconciling, and registering under `clusterId`.
    func start(core: BrokerCore, groups: GroupCoordinator) async {
        await follower.start()
        let reconciler = ClusterMetadataReconciler(core: core, store: store, groups: groups)
        let images = self.images
        let reconciling = Task {
            var previous = MetadataImage()
            var failed: Set<KafkaUUID> = []
            for await image in images {
                failed = await reconciler.reconcile(image, previous: previous, retrying: failed)
                previous = image
            }
        }
        let (lifecycle, clusterId) = (self.lifecycle, core.clusterId)
        let heartbeating = Task { await lifecycle.run(clusterId: clusterId) }
        tasks.withLock { $0 += [reconciling, heartbeating] }
    }

    /// Asks the controller to move this broker's leaderships away and waits (up to `timeoutMs`) until it
    /// agrees; the broker still serves meanwhile, so clients follow the new leaders.
    func controlledShutdown(timeoutMs: Int64) async {
        await lifecycle.shutDown(timeoutMs: timeoutMs)
    }

    /// Stops everything: no more heartbeats, fetches or reconciling. Called once nothing else sends on the
    /// channel (the listener is closed).
    func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        await follower.stop()
        await channel.close()
    }
}
