import ArgumentParser
import Foundation
import Logging
import MartletBroker

/// `martlet server`: runs one node, configured the Kafka way: a properties file, then `--override key=value`
/// and the named flags, later ones winning. A bad key or value stops start-up with one line naming it.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a Martlet node (server.properties, like kafka-server-start)."
    )

    @Option(name: .customLong("config"), help: "A server.properties file.")
    var configFile: String?

    @Option(name: .customLong("override"), help: "key=value, overriding the file (repeatable).")
    var overrides: [String] = []

    @Option(name: .customLong("node.id")) var nodeId: String?
    @Option(name: .customLong("listeners")) var listeners: String?
    @Option(name: .customLong("advertised.listeners")) var advertisedListeners: String?
    @Option(name: .customLong("log.dirs")) var logDirs: String?
    @Option(name: .customLong("num.partitions")) var numPartitions: String?
    @Option(name: .customLong("default.replication.factor")) var defaultReplicationFactor: String?
    @Option(name: .customLong("auto.create.topics.enable")) var autoCreateTopicsEnable: String?
    @Option(name: .customLong("log.segment.bytes")) var logSegmentBytes: String?
    @Option(name: .customLong("log.roll.ms")) var logRollMs: String?
    @Option(name: .customLong("log.retention.ms")) var logRetentionMs: String?
    @Option(name: .customLong("log.retention.bytes")) var logRetentionBytes: String?
    @Option(name: .customLong("message.max.bytes")) var messageMaxBytes: String?
    @Option(name: .customLong("socket.request.max.bytes")) var socketRequestMaxBytes: String?
    @Option(name: .customLong("log.flush.interval.messages")) var logFlushIntervalMessages: String?
    @Option(name: .customLong("log.flush.interval.ms")) var logFlushIntervalMs: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func settings() throws -> [(key: String, value: String)] {
        var settings: [(key: String, value: String)] = []
        if let configFile {
            let text: String
            do {
                text = try String(contentsOfFile: configFile, encoding: .utf8)
            } catch {
                throw ConfigError.file(configFile, "\(error.localizedDescription)")
            }
            do {
                settings += try PropertiesFile.parse(text).map { ($0.key, $0.value) }
            } catch {
                throw ConfigError.file(configFile, error.description)
            }
        }
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw ConfigError.invalidValue("--override", override, "expected key=value")
            }
            settings.append((String(override[..<equals]), String(override[override.index(after: equals)...])))
        }
        let flags: [(String, String?)] = [
            ("node.id", nodeId), ("listeners", listeners), ("advertised.listeners", advertisedListeners),
            ("log.dirs", logDirs), ("num.partitions", numPartitions),
            ("default.replication.factor", defaultReplicationFactor), ("auto.create.topics.enable", autoCreateTopicsEnable),
            ("log.segment.bytes", logSegmentBytes), ("log.roll.ms", logRollMs), ("log.retention.ms", logRetentionMs),
            ("log.retention.bytes", logRetentionBytes), ("message.max.bytes", messageMaxBytes),
            ("socket.request.max.bytes", socketRequestMaxBytes), ("log.flush.interval.messages", logFlushIntervalMessages),
            ("log.flush.interval.ms", logFlushIntervalMs),
        ]
        for case let (key, value?) in flags { settings.append((key, value)) }
        return settings
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("invalid --log-level '\(logLevel)'")
        }
        let config: BrokerConfig
        do {
            config = try BrokerConfig(try settings())
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("martlet: \(error)\n".utf8))
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "martlet.node.\(config.nodeId)")
        if config.isController {
            try await ControllerNode(config: config, logger: logger).run()
        } else {
            try await BrokerNode(config: config, logger: logger).run()
        }
    }
}
