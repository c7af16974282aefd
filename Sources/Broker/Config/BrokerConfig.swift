import Foundation

/// The broker's resolved configuration: the explicitly set keys (from the properties file and command-line
/// overrides, later ones winning) checked against `BrokerConfigKeys`, with typed accessors for what the
/// server uses.
public struct BrokerConfig: Sendable {
    /// Keys set explicitly, as text. DescribeConfigs reports these as STATIC_BROKER_CONFIG.
    public private(set) var explicit: [String: String]

    /// Validates every key and value; the first problem is thrown as a one-line error naming the key.
    public init(_ settings: [(key: String, value: String)]) throws(ConfigError) {
        var explicit: [String: String] = [:]
        for (key, value) in settings {
            guard let definition = BrokerConfigKeys.byName[key] else { throw .unknownKey(key) }
            try definition.validate(value)
            explicit[key] = value.trimmingWhitespace
        }
        self.explicit = explicit
        guard explicit["node.id"] != nil else { throw .missing("node.id") }
        if let advertised = explicit["advertised.listeners"].flatMap(Listener.parseList)?.first(where: { $0.host.isEmpty || $0.port == 0 }) {
            throw .invalidValue("advertised.listeners", advertised.description, "an advertised listener needs a host and a port")
        }
        if isController { try validateController() }
        if explicit["process.roles"] != nil && !isController { try validateClusterBroker() }
    }

    /// What a broker under a controller quorum needs, as Kafka checks it: where the controllers are, and
    /// the name of their listener. Without `process.roles` the broker runs alone (`isClusterBroker` false).
    private func validateClusterBroker() throws(ConfigError) {
        guard explicit["controller.quorum.voters"] != nil else { throw .missing("controller.quorum.voters") }
        guard explicit["controller.listener.names"] != nil else { throw .missing("controller.listener.names") }
        if let voter = quorumVoters.first(where: { $0.id == nodeId }) {
            throw .invalidValue("node.id", String(nodeId), "a broker's node.id must differ from the controllers' (\(voter) is a voter)")
        }
    }

    /// What a controller needs, as Kafka checks it at start-up: the voters, this node among them, and a
    /// controller listener to bind.
    private func validateController() throws(ConfigError) {
        let roles = value("process.roles")!
        guard !processRoles.contains("broker") else {
            throw .invalidValue("process.roles", roles, "combined broker and controller mode is not supported yet")
        }
        guard let voters = explicit["controller.quorum.voters"] else { throw .missing("controller.quorum.voters") }
        guard quorumVoters.contains(where: { $0.id == nodeId }) else {
            throw .invalidValue("controller.quorum.voters", voters, "node.id \(nodeId) is not one of the voters")
        }
        guard let names = explicit["controller.listener.names"] else { throw .missing("controller.listener.names") }
        guard controllerListener != nil else {
            throw .invalidValue("controller.listener.names", names, "no listener in listeners has one of these names")
        }
    }

    /// The value of `key`: set explicitly, else its default. Nil when neither.
    public func value(_ key: String) -> String? {
        explicit[key] ?? BrokerConfigKeys.byName[key]?.defaultValue
    }

    private func int(_ key: String) -> Int { Int(value(key)!)! }
    private func long(_ key: String) -> Int64 { Int64(value(key)!)! }
    private func bool(_ key: String) -> Bool { value(key)!.lowercased() == "true" }

    public var nodeId: Int32 { Int32(int("node.id")) }
    public var processRoles: [String] { value("process.roles")!.split(separator: ",").map { String($0).trimmingWhitespace } }
    public var isController: Bool { processRoles.contains("controller") }
    /// A broker that registers with the controller quorum and follows its metadata log, as opposed to a
    /// single node that keeps its own topic metadata (no `process.roles` set).
    public var isClusterBroker: Bool { !isController && explicit["process.roles"] != nil }
    /// `controller.quorum.voters`, empty when not set.
    public var quorumVoters: [QuorumVoter] { explicit["controller.quorum.voters"].flatMap(QuorumVoter.parseList) ?? [] }
    public var controllerListenerNames: [String] {
        (explicit["controller.listener.names"] ?? "").split(separator: ",").map { String($0).trimmingWhitespace }
    }
    /// The listener a controller binds: the first of `listeners` named in `controller.listener.names`.
    public var controllerListener: Listener? {
        controllerListenerNames.lazy.compactMap { name in listeners.first { $0.name == name } }.first
    }
    /// `metadata.log.dir`, else the first log directory (as Kafka places `__cluster_metadata-0`).
    public var metadataLogDirectory: String { explicit["metadata.log.dir"] ?? logDirectories[0] }
    public var quorumElectionTimeoutMs: Int64 { long("controller.quorum.election.timeout.ms") }
    public var quorumFetchTimeoutMs: Int64 { long("controller.quorum.fetch.timeout.ms") }
    public var quorumElectionBackoffMaxMs: Int64 { long("controller.quorum.election.backoff.max.ms") }
    public var quorumRequestTimeoutMs: Int64 { long("controller.quorum.request.timeout.ms") }
    public var metadataSnapshotMaxNewRecordBytes: Int64 { long("metadata.log.max.record.bytes.between.snapshots") }
    /// 0: snapshots are written by size only.
    public var metadataSnapshotMaxIntervalMs: Int64 { long("metadata.log.max.snapshot.interval.ms") }
    public var listeners: [Listener] { Listener.parseList(value("listeners")!)! }
    /// What clients are told to connect to: `advertised.listeners`, else `listeners` with an empty
    /// (every interface) host replaced by this machine's host name, as Kafka does.
    public var advertisedListeners: [Listener] {
        if let advertised = value("advertised.listeners").flatMap(Listener.parseList) { return advertised }
        return listeners.map { listener in
            var advertised = listener
            if advertised.host.isEmpty { advertised.host = Self.hostName }
            return advertised
        }
    }

    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
    public var logDirectories: [String] {
        (explicit["log.dirs"] ?? value("log.dir")!).split(separator: ",").map { String($0).trimmingWhitespace }
    }
    public var numPartitions: Int32 { Int32(int("num.partitions")) }
    public var defaultReplicationFactor: Int16 { Int16(clamping: int("default.replication.factor")) }
    public var autoCreateTopics: Bool { bool("auto.create.topics.enable") }
    public var deleteTopicEnable: Bool { bool("delete.topic.enable") }
    public var messageMaxBytes: Int { int("message.max.bytes") }
    public var socketRequestMaxBytes: Int { int("socket.request.max.bytes") }
    public var queuedMaxRequests: Int { int("queued.max.requests") }
    public var connectionsMaxIdleMs: Int64 { long("connections.max.idle.ms") }
    public var maxConnections: Int { int("max.connections") }
    public var logRetentionCheckIntervalMs: Int64 { long("log.retention.check.interval.ms") }
    public var clusterId: String? { explicit["cluster.id"] }
    public var brokerSessionTimeoutMs: Int64 { long("broker.session.timeout.ms") }
    public var brokerHeartbeatIntervalMs: Int64 { long("broker.heartbeat.interval.ms") }
    public var logCleanerEnable: Bool { bool("log.cleaner.enable") }
    public var logCleanerBackoffMs: Int64 { long("log.cleaner.backoff.ms") }
    public var logCleanerDedupeBufferSize: Int64 { long("log.cleaner.dedupe.buffer.size") }
    public var offsetsTopicPartitions: Int32 { Int32(int("offsets.topic.num.partitions")) }
    public var offsetsTopicReplicationFactor: Int16 { Int16(int("offsets.topic.replication.factor")) }
    public var offsetsTopicSegmentBytes: Int { int("offsets.topic.segment.bytes") }

    /// The group coordinator's settings, from the `group.*` and `offset*` keys.
    public var groupCoordinator: GroupCoordinatorConfig {
        var config = GroupCoordinatorConfig()
        config.minSessionTimeoutMs = Int32(clamping: int("group.min.session.timeout.ms"))
        config.maxSessionTimeoutMs = Int32(clamping: int("group.max.session.timeout.ms"))
        config.initialRebalanceDelayMs = long("group.initial.rebalance.delay.ms")
        config.maxSize = int("group.max.size")
        config.offsetMetadataMaxBytes = int("offset.metadata.max.bytes")
        config.offsetsRetentionMs = long("offsets.retention.minutes") * 60_000
        config.offsetsRetentionCheckIntervalMs = long("offsets.retention.check.interval.ms")
        config.offsetsTopicPartitions = offsetsTopicPartitions
        return config
    }

    /// `log.retention.ms`, else minutes, else hours, as Kafka resolves them.
    public var logRetentionMs: Int64 {
        if let ms = explicit["log.retention.ms"] { return Int64(ms)! }
        if let minutes = explicit["log.retention.minutes"] { return Int64(minutes)! * 60_000 }
        return long("log.retention.hours") * 3_600_000
    }

    /// `log.roll.ms`, else hours.
    public var logRollMs: Int64 {
        if let ms = explicit["log.roll.ms"] { return Int64(ms)! }
        return long("log.roll.hours") * 3_600_000
    }

    /// The broker-level value behind a topic config's synonym, after unit conversion, or nil if unset.
    public func brokerValue(forSynonym key: String) -> String? {
        switch key {
        case "log.retention.ms": explicit[key] == nil && explicit["log.retention.minutes"] == nil ? nil : String(logRetentionMs)
        case "log.retention.minutes": explicit[key].map { String(Int64($0)! * 60_000) }
        case "log.retention.hours": explicit[key].map { String(Int64($0)! * 3_600_000) }
        case "log.roll.hours": explicit[key].map { String(Int64($0)! * 3_600_000) }
        default: explicit[key]
        }
    }

    /// The broker's default for a topic config: the broker synonym if set, else Kafka's default.
    public func topicDefault(_ definition: ConfigDefinition) -> String? {
        for synonym in definition.brokerSynonyms {
            if let value = brokerValue(forSynonym: synonym) { return value }
        }
        return definition.defaultValue
    }
}
