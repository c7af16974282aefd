import MartletProtocol

/// A change the driver makes to the on-disk log, in the order given.
public enum LogOperation: Hashable, Sendable {
    /// Remove every entry at `from` and above. Durable at once (a truncated log does not grow back).
    case truncate(from: Int64)
    /// Write these entries at the end; they are durable only once flushed (`RaftNode.logFlushed`).
    case append([LogEntry])
    /// Write this snapshot durably, delete the whole log, and reload the state machine from it.
    case installSnapshot(RaftSnapshot)
    /// A snapshot covers everything below this offset: that prefix of the log may be deleted.
    case deletePrefix(before: Int64)
}

/// A message for the driver to send.
public struct RaftEnvelope: Hashable, Sendable {
    public var to: ReplicaID
    public var message: RaftMessage

    public init(to: ReplicaID, message: RaftMessage) {
        self.to = to
        self.message = message
    }
}

/// Bad input the core refused (answered with `error` where there is someone to answer), for the
/// driver to log.
public struct RaftRejection: Hashable, Sendable, CustomStringConvertible {
    public var from: ReplicaID
    public var error: KafkaErrorCode
    public var reason: String

    public init(from: ReplicaID, error: KafkaErrorCode, reason: String) {
        self.from = from
        self.error = error
        self.reason = reason
    }

    public var description: String { "from \(from): \(error.name): \(reason)" }
}

/// Identifies what a flush covered: the log end when the ready was taken, and how many truncations the
/// log had seen. A flush that raced a truncation proves nothing about the entries written after it.
public struct LogFlushToken: Hashable, Sendable {
    public var endOffset: Int64
    public var truncations: Int
}

/// Everything the driver must do after feeding the core, etcd/raft's `Ready`. In order:
/// 1. make `quorumState` durable (if set) before any message goes out;
/// 2. apply `logOperations` in order;
/// 3. send `messages`;
/// 4. apply `committed` to the state machine, in order;
/// 5. once the appended entries are flushed, call `logFlushed(flushToken)`.
public struct RaftReady: Hashable, Sendable {
    public var quorumState: QuorumState?
    public var logOperations: [LogOperation] = []
    public var messages: [RaftEnvelope] = []
    /// Entries below the high watermark not handed out before.
    public var committed: [LogEntry] = []
    public var highWatermark: Int64 = 0
    public var rejections: [RaftRejection] = []
    public var flushToken: LogFlushToken

    public init(quorumState: QuorumState? = nil, highWatermark: Int64, flushToken: LogFlushToken) {
        self.quorumState = quorumState
        self.highWatermark = highWatermark
        self.flushToken = flushToken
    }

    /// Whether there is anything to do at all.
    public var isEmpty: Bool {
        quorumState == nil && logOperations.isEmpty && messages.isEmpty && committed.isEmpty && rejections.isEmpty
    }
}
