import Dispatch
import Foundation
import Logging
import MartletProtocol
import NIOCore
import NIOPosix

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
        let core = try BrokerCore(config: config, logger: logger)
        let started = ContinuousClock.now
        try await core.openPartitions()
        logger.info("opened \(core.replicas.allPartitions().count) partition(s) in \(ContinuousClock.now - started)")
        let groups = GroupCoordinator(broker: core)
        await groups.loadExistingTopic()
        let server = KafkaServer(
            handlers: Self.handlers(core, groups: groups),
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
            group.addTask { await Self.waitForTerminationSignal() }
            group.addTask { await core.replicas.runMaintenance() }
            if config.logCleanerEnable {
                group.addTask { await core.replicas.runCleaner() }
            }
            _ = try await group.next()
            logger.info("shutting down")
            await bound.close()
            group.cancelAll()
        }
        await groups.shutdown()
        await core.replicas.shutdown()
        logger.info("stopped")
    }

    static func handlers(_ core: BrokerCore, groups: GroupCoordinator) -> HandlerRegistry {
        let box = RegistryBox()
        let registry = HandlerRegistry([
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
