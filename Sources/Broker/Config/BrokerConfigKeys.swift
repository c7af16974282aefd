/// The broker configuration keys Martlet understands, with Kafka's names, defaults and limits.
/// A key not listed here stops start-up: a typo must not be silently ignored.
public enum BrokerConfigKeys {
    public static let all: [ConfigDefinition] = [
        .init("node.id", .int, default: nil, .atLeast(0), doc: "The node id of this server."),
        .init("process.roles", .list, default: "broker", .listOf(["broker", "controller"]),
              doc: "The roles this process plays: broker, controller, or both."),
        .init("controller.quorum.voters", .list, default: nil, .custom(QuorumVoter.validateList),
              doc: "The voters of the controller quorum, id@host:port[,id@host:port...] (a static quorum)."),
        .init("controller.listener.names", .list, default: nil, .nonEmpty,
              doc: "The listeners the controller quorum uses; a controller binds the first one."),
        .init("metadata.log.dir", .string, default: nil, .nonEmpty,
              doc: "The directory of the __cluster_metadata log; the first of log.dirs when not set."),
        .init("controller.quorum.election.timeout.ms", .int, default: "1000", .atLeast(1),
              doc: "How long a voter waits without a leader before it starts an election (randomized up to twice this)."),
        .init("controller.quorum.fetch.timeout.ms", .int, default: "2000", .atLeast(1),
              doc: "How long a follower goes without a successful fetch from the leader before it starts an election."),
        .init("controller.quorum.election.backoff.max.ms", .int, default: "1000", .atLeast(0),
              doc: "The most a voter backs off before starting a new election."),
        .init("controller.quorum.request.timeout.ms", .int, default: "2000", .atLeast(1),
              doc: "How long a quorum request may go unanswered before it is sent again."),
        .init("metadata.log.max.record.bytes.between.snapshots", .long, default: "20971520", .atLeast(1),
              doc: "The committed metadata log bytes since the latest snapshot after which a new snapshot is written."),
        .init("metadata.log.max.snapshot.interval.ms", .long, default: "3600000", .atLeast(0),
              doc: "The longest a committed metadata record waits to be in a snapshot; 0 disables time-based snapshots."),
        .init("listeners", .list, default: "PLAINTEXT://:9092", .custom(Listener.validateList),
              doc: "Comma-separated listeners, NAME://host:port. An empty host binds every interface."),
        .init("advertised.listeners", .list, default: nil, .custom(Listener.validateList),
              doc: "Listeners to publish to clients, if different from `listeners`."),
        .init("log.dirs", .list, default: nil, .nonEmpty, doc: "The directories in which the log data is kept."),
        .init("log.dir", .string, default: "/tmp/kafka-logs", .nonEmpty, doc: "The log directory, used when log.dirs is not set."),
        .init("num.partitions", .int, default: "1", .atLeast(1), doc: "The default number of partitions per topic."),
        .init("default.replication.factor", .int, default: "1", .atLeast(1),
              doc: "The default replication factor for automatically created topics."),
        .init("auto.create.topics.enable", .boolean, default: "true", doc: "Enable auto creation of topics on the server."),
        .init("min.insync.replicas", .int, default: "1", .atLeast(1),
              doc: "The minimum number of replicas that must acknowledge a write with acks=all."),
        .init("log.segment.bytes", .int, default: "1073741824", .atLeast(14), doc: "The maximum size of a single log file."),
        .init("log.roll.ms", .long, default: nil, .atLeast(1), doc: "The maximum time before a new log segment is rolled out (ms)."),
        .init("log.roll.hours", .int, default: "168", .atLeast(1), doc: "The maximum time before a new log segment is rolled out (hours)."),
        .init("log.retention.ms", .long, default: nil, doc: "How long to keep a log file before deleting it (ms); -1 for no limit."),
        .init("log.retention.minutes", .int, default: nil, doc: "How long to keep a log file before deleting it (minutes)."),
        .init("log.retention.hours", .int, default: "168", doc: "How long to keep a log file before deleting it (hours)."),
        .init("log.retention.bytes", .long, default: "-1", doc: "The maximum size of the log before deleting it; -1 for no limit."),
        .init("log.retention.check.interval.ms", .long, default: "300000", .atLeast(1),
              doc: "How often the log cleaner checks whether any log is eligible for deletion."),
        .init("log.flush.interval.messages", .long, default: "9223372036854775807", .atLeast(1),
              doc: "The number of messages accumulated on a log partition before they are flushed to disk."),
        .init("log.flush.interval.ms", .long, default: nil, .atLeast(0),
              doc: "The maximum time a message stays in memory before it is flushed to disk (ms)."),
        .init("log.flush.scheduler.interval.ms", .long, default: "9223372036854775807", .atLeast(0),
              doc: "How often the flusher checks whether any log needs to be flushed."),
        .init("log.index.interval.bytes", .int, default: "4096", .atLeast(0), doc: "The interval at which an entry is added to the offset index."),
        .init("log.index.size.max.bytes", .int, default: "10485760", .atLeast(4), doc: "The maximum size in bytes of the offset index."),
        .init("log.cleanup.policy", .list, default: "delete", .listOf(["delete", "compact"]), doc: "The default cleanup policy for segments."),
        .init("log.message.timestamp.type", .string, default: "CreateTime", .oneOf(["CreateTime", "LogAppendTime"]),
              doc: "Whether the timestamp in the message is the create time or the log append time."),
        .init("message.max.bytes", .int, default: "1048588", .atLeast(0),
              doc: "The largest record batch size allowed, after compression."),
        .init("compression.type", .string, default: "producer", .oneOf(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
              doc: "The final compression type for a topic; producer keeps the producer's codec."),
        .init("socket.request.max.bytes", .int, default: "104857600", .atLeast(1), doc: "The maximum number of bytes in a socket request."),
        .init("queued.max.requests", .int, default: "500", .atLeast(1),
              doc: "The number of requests a connection may have queued before the server stops reading from it."),
        .init("connections.max.idle.ms", .long, default: "600000", doc: "Idle connections are closed after this many milliseconds."),
        .init("max.connections", .int, default: "2147483647", .atLeast(0), doc: "The maximum number of connections the server accepts."),
        .init("delete.topic.enable", .boolean, default: "true", doc: "Enables topic deletion."),
        .init("cluster.id", .string, default: nil, doc: "The cluster id; generated and stored in meta.properties when not set."),
        .init("broker.session.timeout.ms", .int, default: "9000", .atLeast(1),
              doc: "How long a broker may go without heartbeating before the active controller fences it."),
        .init("broker.heartbeat.interval.ms", .int, default: "2000", .atLeast(1),
              doc: "How often a broker heartbeats to the active controller."),
        .init("log.cleaner.enable", .boolean, default: "true",
              doc: "Enable the log cleaner, which compacts topics with cleanup.policy=compact (__consumer_offsets among them)."),
        .init("log.cleaner.backoff.ms", .long, default: "15000", .atLeast(0),
              doc: "The amount of time to sleep when there are no logs to clean."),
        .init("log.cleaner.dedupe.buffer.size", .long, default: "134217728", .atLeast(1),
              doc: "The memory used for log deduplication (the key -> offset map) of one cleaning pass."),
        .init("offsets.topic.num.partitions", .int, default: "50", .atLeast(1),
              doc: "The number of partitions for the offset commit topic (should not change after deployment)."),
        .init("offsets.topic.replication.factor", .int, default: "3", .between(1, 32767),
              doc: "The replication factor for the offsets topic. Its creation fails until the cluster has this many brokers."),
        .init("offsets.topic.segment.bytes", .int, default: "104857600", .atLeast(1),
              doc: "The offsets topic segment bytes, kept small to make compaction and coordinator loads fast."),
        .init("offsets.retention.minutes", .int, default: "10080", .atLeast(1),
              doc: "For subscribed consumers, committed offsets are deleted this long after the group loses all its consumers; for standalone consumers, after the last commit."),
        .init("offsets.retention.check.interval.ms", .long, default: "600000", .atLeast(1),
              doc: "Frequency at which to check for stale offsets."),
        .init("offset.metadata.max.bytes", .int, default: "4096", .atLeast(0),
              doc: "The maximum size for a metadata entry associated with an offset commit."),
        .init("group.initial.rebalance.delay.ms", .int, default: "3000", .atLeast(0),
              doc: "How long the coordinator waits for more consumers to join a new group before the first rebalance."),
        .init("group.min.session.timeout.ms", .int, default: "6000", .atLeast(0),
              doc: "The minimum allowed session timeout for registered consumers."),
        .init("group.max.session.timeout.ms", .int, default: "1800000", .atLeast(0),
              doc: "The maximum allowed session timeout for registered consumers."),
        .init("group.max.size", .int, default: "2147483647", .atLeast(1),
              doc: "The maximum number of consumers that a single consumer group can accommodate."),
    ]

    public static let byName: [String: ConfigDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

/// A listener: NAME://host:port, as in Kafka's `listeners` and `advertised.listeners`.
public struct Listener: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public var description: String { "\(name)://\(host):\(port)" }

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    public static func parse(_ text: String) -> Listener? {
        let parts = text.trimmingWhitespace.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let colon = parts[1].lastIndex(of: ":") else { return nil }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(parts[1][parts[1].index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return Listener(name: String(parts[0]), host: host, port: port)
    }

    public static func parseList(_ text: String) -> [Listener]? {
        let items = text.split(separator: ",").map { parse(String($0)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        return items.map { $0! }
    }

    static func validateList(_ text: String) -> String? {
        parseList(text) == nil ? "expected NAME://host:port[,NAME://host:port...]" : nil
    }
}
