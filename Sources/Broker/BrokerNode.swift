import Dispatch
import Foundation
import Logging
import MartletProtocol
import NIOCore
import NIOPosix
import Synchronization

/// One broker process: runs a `BrokerServer` until SIGTERM or SIGINT, then stops it cleanly (controlled
/// shutdown under the controllers, connections ended, logs flushed and closed).
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
        guard let server = try await BrokerServer.start(config: config, logger: logger, stopRequested: { signalled.load(ordering: .relaxed) }) else {
            return
        }
        await terminated.value
        logger.info("shutting down")
        await server.stop()
        logger.info("stopped")
    }

    /// Who acts on topic deletions, partition growth and config changes: this node, which owns its topic
    /// metadata, or the active controller the requests are forwarded to.
    enum TopicAdministration: Sendable {
        case local(LocalTopicAdmin)
        case forwarded(ControllerChannel)
    }

    static func handlers(_ core: BrokerCore, groups: GroupCoordinator, administration: TopicAdministration) -> HandlerRegistry {
        let box = RegistryBox()
        let admin: [any ApiHandler]
        switch administration {
        case .local(let local):
            admin = [
                DeleteTopicsHandler(admin: local), CreatePartitionsHandler(admin: local), AlterConfigsHandler(admin: local),
                IncrementalAlterConfigsHandler(admin: local),
            ]
        case .forwarded(let channel):
            admin = ForwardedAdminApis.handlers(channel)
        }
        let registry = HandlerRegistry(admin + [
            ApiVersionsHandler(advertised: { box.registry?.advertised ?? [] }),
            MetadataHandler(broker: core),
            ProduceHandler(broker: core),
            FetchHandler(broker: core, sessions: FetchSessionCache()),
            ListOffsetsHandler(broker: core),
            CreateTopicsHandler(broker: core),
            DeleteRecordsHandler(broker: core),
            InitProducerIdHandler(broker: core),
            OffsetForLeaderEpochHandler(broker: core),
            DescribeConfigsHandler(broker: core),
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
