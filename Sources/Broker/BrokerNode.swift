import Dispatch
import Foundation
import Logging
import MartletProtocol
import NIOCore
import NIOPosix
import Synchronization

/// One running node: opens the state, binds the listener, serves until SIGTERM or SIGINT, then shuts down
/// cleanly (stops accepting, ends connections, flushes and closes the logs).
public struct BrokerNode: Sendable {
    let config: BrokerConfig
    let logger: Logger

    public init(config: BrokerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        let terminated = Task { await Self.waitForTerminationSignal() }
        let signalled = Atomic<Bool>(false)
        Task {
            await terminated.value
            signalled.store(true, ordering: .relaxed)
        }
        let membership = config.isClusterBroker ? try ClusterMembership(config: config, logger: logger) : nil
        let core = try membership.map {
            try BrokerCore(config: config, logger: logger, metadata: $0.store, producerIds: $0.producerIds)
        } ?? BrokerCore(config: config, logger: logger)
        let groups = GroupCoordinator(broker: core)
        let started = ContinuousClock.now
        if let membership {
            // The metadata log decides which partitions this broker hosts: they are opened as the image
            // is reconciled, and the broker serves once the controller unfences it, which it does only
            // after the broker has applied the log up to its own registration.
            await membership.start(core: core, groups: groups)
            logger.info("broker \(config.nodeId): waiting to catch up with the metadata log and be unfenced")
            while await membership.lifecycle.isFenced {
                if signalled.load(ordering: .relaxed) {
                    logger.info("shutting down before serving")
                    await membership.stop(controlledShutdownTimeoutMs: 0)
                    await core.replicas.shutdown()
                    return
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            core.replicas.markRunning()
            await core.replicas.writeCheckpoints()
        } else {
            try await core.openPartitions()
            await groups.loadExistingTopic()
        }
        logger.info("opened \(core.replicas.allPartitions().count) partition(s) in \(ContinuousClock.now - started)")
        let server = KafkaServer(
            handlers: Self.handlers(core, groups: groups, membership: membership),
            limits: .init(
                maximumFrameSize: config.socketRequestMaxBytes, queuedMaxRequests: config.queuedMaxRequests,
                idleTimeoutMs: config.connectionsMaxIdleMs, maximumConnections: config.maxConnections),
            logger: logger
        )
        let listener = config.listeners[0]
        let bound = try await server.bind(
            host: listener.host.isEmpty ? "0.0.0.0" : listener.host, port: listener.port, group: MultiThreadedEventLoopGroup.singleton)
        logger.info("node \(config.nodeId) of cluster \(core.clusterId) listening on \(listener.host):\(bound.localPort ?? listener.port)")

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bound.run() }
            group.addTask { await terminated.value }
            group.addTask { await core.replicas.runMaintenance() }
            if config.logCleanerEnable {
                group.addTask { await core.replicas.runCleaner() }
            }
            _ = try await group.next()
            logger.info("shutting down")
            await membership?.stop(controlledShutdownTimeoutMs: Self.controlledShutdownTimeoutMs)
            await bound.close()
            group.cancelAll()
        }
        await groups.shutdown()
        await core.replicas.shutdown()
        logger.info("stopped")
    }

    /// How long a broker under the controllers waits for them to move its leaderships away before it
    /// stops anyway (Kafka retries controlled shutdown for about as long).
    static let controlledShutdownTimeoutMs: Int64 = 15_000

    static func handlers(_ core: BrokerCore, groups: GroupCoordinator, membership: ClusterMembership? = nil) -> HandlerRegistry {
        let box = RegistryBox()
        let forwarded: [any ApiHandler] = membership.map { [DescribeQuorumForwardingHandler(channel: $0.channel)] } ?? []
        let registry = HandlerRegistry(forwarded + [
            ApiVersionsHandler(advertised: { box.registry?.advertised ?? [] }),
            MetadataHandler(broker: core),
            ProduceHandler(broker: core),
            FetchHandler(broker: core, sessions: FetchSessionCache()),
            ListOffsetsHandler(broker: core),
            CreateTopicsHandler(broker: core),
            DeleteTopicsHandler(broker: core),
            CreatePartitionsHandler(broker: core),
            DeleteRecordsHandler(broker: core),
            InitProducerIdHandler(broker: core),
            OffsetForLeaderEpochHandler(broker: core),
            DescribeConfigsHandler(broker: core),
            AlterConfigsHandler(broker: core),
            IncrementalAlterConfigsHandler(broker: core),
            DescribeLogDirsHandler(broker: core),
            DescribeClusterHandler(broker: core),
            FindCoordinatorHandler(broker: core, groups: groups),
            JoinGroupHandler(groups: groups),
            SyncGroupHandler(groups: groups),
            HeartbeatHandler(groups: groups),
            LeaveGroupHandler(groups: groups),
            OffsetCommitHandler(broker: core, groups: groups),
            OffsetFetchHandler(groups: groups),
            OffsetDeleteHandler(groups: groups),
            DescribeGroupsHandler(groups: groups),
            ListGroupsHandler(groups: groups),
            DeleteGroupsHandler(groups: groups),
        ])
        box.registry = registry
        return registry
    }

    /// Returns when the process receives SIGTERM or SIGINT.
    static func waitForTerminationSignal() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(continuation)
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { once.resume() }
                source.resume()
                once.retain(source)
            }
        }
    }
}

/// Resumes a continuation once, from whichever signal arrives first, and keeps the signal sources alive.
private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func retain(_ source: any DispatchSourceSignal) {
        lock.withLock { sources.append(source) }
    }

    func resume() {
        let pending = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        pending?.resume()
    }
}
