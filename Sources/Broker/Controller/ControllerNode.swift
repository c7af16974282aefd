import Logging

/// A `process.roles=controller` process: runs a `ControllerServer` until SIGTERM or SIGINT, then stops
/// it cleanly (listener closed, log flushed and closed).
public struct ControllerNode: Sendable {
    let config: BrokerConfig
    let logger: Logger

    public init(config: BrokerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        let server = try await ControllerServer.start(config: config, applier: CommittedEntryCounter(logger: logger), logger: logger)
        await BrokerNode.waitForTerminationSignal()
        logger.info("shutting down")
        await server.stop()
        logger.info("stopped")
    }
}
