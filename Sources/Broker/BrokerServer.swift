import Logging
import MartletProtocol
import NIOCore
import NIOPosix

/// A running broker: its partitions, group coordinator and listener, and under the controllers its
/// membership of the cluster. `BrokerNode` runs one as a process; tests run several in one process.
public final class BrokerServer: Sendable {
    public let core: BrokerCore
    let groups: GroupCoordinator
    let membership: ClusterMembership?
    private let listener: KafkaServer.BoundListener
    /// The listener, retention and flushing, and the log cleaner, until `stop`.
    private let serving: Task<Void, Never>

    /// The port the listener is bound to.
    public var port: Int? { listener.localPort }

    /// How long a broker under the controllers waits for them to move its leaderships away before it
    /// stops anyway (Kafka retries controlled shutdown for about as long).
    static let controlledShutdownTimeoutMs: Int64 = 15_000

    /// Opens the state and starts serving. A single node opens its partitions from its own metadata. A
    /// broker under the controllers opens the ones the metadata log places on it as it catches up; once
    /// the controller reports it caught up (past its own registration) it binds its listener and then asks
    /// to be unfenced, so clients are only sent to it when it can answer. Nil if `stopRequested` turns
    /// true before it catches up.
    public static func start(config: BrokerConfig, logger: Logger, stopRequested: @escaping @Sendable () -> Bool = { false }) async throws -> BrokerServer? {
        let membership = config.isClusterBroker ? try ClusterMembership(config: config, logger: logger) : nil
        let core: BrokerCore
        let administration: BrokerNode.TopicAdministration
        if let membership {
            core = try BrokerCore(config: config, logger: logger, metadata: membership.store, producerIds: membership.producerIds)
            administration = .forwarded(membership.channel)
        } else {
            let store = try LocalMetadataStore(config: config)
            core = try BrokerCore(config: config, logger: logger, metadata: store)
            administration = .local(LocalTopicAdmin(core: core, store: store))
        }
        let groups = GroupCoordinator(broker: core)
        let started = ContinuousClock.now
        if let membership {
            // From here on a crash must be recovered from, whatever the reconciler opens or writes.
            core.replicas.markRunning()
            await membership.start(core: core, groups: groups)
            logger.info("broker \(config.nodeId): waiting to catch up with the metadata log")
            while await !membership.lifecycle.isCaughtUp {
                if stopRequested() {
                    logger.info("broker \(config.nodeId): stopped before serving")
                    await membership.stop()
                    await groups.shutdown()
                    await core.replicas.shutdown()
                    return nil
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            core.replicas.deleteStrayLogs(hosted: await membership.store.hostedReplicas())
            await core.replicas.writeCheckpoints()
        } else {
            try await core.openPartitions()
            await groups.loadExistingTopic()
        }
        logger.info("opened \(core.replicas.allPartitions().count) partition(s) in \(ContinuousClock.now - started)")
        let server = KafkaServer(
            handlers: BrokerNode.handlers(core, groups: groups, administration: administration),
            limits: .init(
                maximumFrameSize: config.socketRequestMaxBytes, queuedMaxRequests: config.queuedMaxRequests,
                idleTimeoutMs: config.connectionsMaxIdleMs, maximumConnections: config.maxConnections),
            logger: logger
        )
        let address = config.listeners[0]
        let bound = try await server.bind(
            host: address.host.isEmpty ? "0.0.0.0" : address.host, port: address.port, group: MultiThreadedEventLoopGroup.singleton)
        logger.info("node \(config.nodeId) of cluster \(core.clusterId) listening on \(address.host):\(bound.localPort ?? address.port)")
        await membership?.lifecycle.setReadyToUnfence()
        return BrokerServer(core: core, groups: groups, membership: membership, listener: bound)
    }

    private init(core: BrokerCore, groups: GroupCoordinator, membership: ClusterMembership?, listener: KafkaServer.BoundListener) {
        self.core = core
        self.groups = groups
        self.membership = membership
        self.listener = listener
        serving = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await listener.run()
                    } catch {
                        core.logger.error("listener stopped: \(error)")
                    }
                }
                group.addTask { await core.replicas.runMaintenance() }
                if core.config.logCleanerEnable {
                    group.addTask { await core.replicas.runCleaner() }
                }
            }
        }
    }

    /// Controlled shutdown (under the controllers), then stops accepting, ends the connections, gives the
    /// groups up and flushes and closes every log.
    public func stop() async {
        await membership?.controlledShutdown(timeoutMs: Self.controlledShutdownTimeoutMs)
        await listener.close()
        serving.cancel()
        await serving.value
        await membership?.stop()
        await groups.shutdown()
        await core.replicas.shutdown()
    }
}
