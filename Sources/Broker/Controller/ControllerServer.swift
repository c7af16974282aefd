import Logging
import MartletProtocol
import NIOCore
import NIOPosix

/// A running controller: the Raft driver over `__cluster_metadata-0` and the listener serving the KRaft
/// RPCs on the controller listener. `ControllerNode` runs one as a process; tests run several in one.
public final class ControllerServer: Sendable {
    public let driver: RaftDriver
    private let listener: KafkaServer.BoundListener
    private let serving: Task<Void, Never>

    /// Opens the metadata log, binds the controller listener and starts ticking and serving. Without a
    /// `controller` the node runs the quorum only and answers every controller command NOT_CONTROLLER.
    public static func start(
        config: BrokerConfig, applier: any MetadataApplier, controller: ActiveController? = nil, logger: Logger
    ) async throws -> ControllerServer {
        guard let address = config.controllerListener else { throw ConfigError.missing("controller.listener.names") }
        let driver = try RaftDriver(config: config, applier: applier, controller: controller, logger: logger)
        let server = KafkaServer(
            handlers: handlers(driver),
            limits: .init(
                maximumFrameSize: config.socketRequestMaxBytes, queuedMaxRequests: config.queuedMaxRequests,
                idleTimeoutMs: config.connectionsMaxIdleMs, maximumConnections: config.maxConnections),
            logger: logger)
        let bound = try await server.bind(
            host: address.host.isEmpty ? "0.0.0.0" : address.host, port: address.port, group: MultiThreadedEventLoopGroup.singleton)
        logger.info("controller \(config.nodeId) listening on \(address.host):\(bound.localPort ?? address.port)")
        await driver.start()
        return ControllerServer(driver: driver, listener: bound, logger: logger)
    }

    private init(driver: RaftDriver, listener: KafkaServer.BoundListener, logger: Logger) {
        self.driver = driver
        self.listener = listener
        serving = Task {
            do {
                try await listener.run()
            } catch {
                logger.error("controller listener stopped: \(error)")
            }
        }
    }

    /// Stops accepting, ends the connections, then stops the driver and closes the log.
    public func stop() async {
        await listener.close()
        serving.cancel()
        await serving.value
        await driver.stop()
    }

    /// What a controller serves: the KRaft RPCs, ApiVersions and the commands of the active controller
    /// (topics, configs, broker lifecycle, producer ids); nothing of a broker's (no produce, no broker Fetch).
    static func handlers(_ driver: RaftDriver) -> HandlerRegistry {
        let box = RegistryBox()
        let registry = HandlerRegistry([
            ApiVersionsHandler(advertised: { box.registry?.advertised ?? [] }),
            VoteHandler(driver: driver),
            BeginQuorumEpochHandler(driver: driver),
            EndQuorumEpochHandler(driver: driver),
            MetadataFetchHandler(driver: driver),
            FetchSnapshotHandler(driver: driver),
            DescribeQuorumHandler(driver: driver),
            ControllerCreateTopicsHandler(driver: driver),
            ControllerDeleteTopicsHandler(driver: driver),
            ControllerCreatePartitionsHandler(driver: driver),
            ControllerIncrementalAlterConfigsHandler(driver: driver),
            ControllerAlterConfigsHandler(driver: driver),
            ControllerAllocateProducerIdsHandler(driver: driver),
            ControllerBrokerRegistrationHandler(driver: driver),
            ControllerBrokerHeartbeatHandler(driver: driver),
        ])
        box.registry = registry
        return registry
    }
}
