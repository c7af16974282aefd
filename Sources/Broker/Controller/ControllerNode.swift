import Logging
import MartletReplication

/// A `process.roles=controller` process: runs a `ControllerServer` (the quorum, the committed metadata
/// image, and the active controller when it leads) until SIGTERM or SIGINT, then stops it cleanly
/// (listener closed, log flushed and closed).
public struct ControllerNode: Sendable {
    let config: BrokerConfig
    let logger: Logger

    public init(config: BrokerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        let applier = MetadataImageApplier(logger: logger)
        let controller = ActiveController(config: ControllerConfig(broker: config), committedImage: { applier.image })
        let server = try await ControllerServer.start(config: config, applier: applier, controller: controller, logger: logger)
        await BrokerNode.waitForTerminationSignal()
        logger.info("shutting down")
        await server.stop()
        logger.info("stopped")
    }
}
