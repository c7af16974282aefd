import MartletProtocol

/// Per-topic log settings, with Kafka's names and defaults. A plain value: the broker fills it from
/// `server.properties` and topic configs (`cleanupPolicy` takes `cleanup.policy`); `PartitionLog.config`
/// may be replaced at any time (size and age limits apply from the next append, `maxIndexSize` to
/// segments created afterwards).
public struct LogConfig: Hashable, Sendable {
    /// `log.segment.bytes`: roll a new segment before the active one would grow past this. Also the
    /// largest single append (RECORD_LIST_TOO_LARGE above it). Capped at Int32.max, the largest
    /// position an index entry can hold.
    public var segmentBytes: Int
    /// `log.roll.ms`: roll once the active segment's first batch is older than this.
    public var segmentMs: Int64
    /// `log.retention.ms`: delete segments whose newest record is older than this; -1 = keep forever.
    public var retentionMs: Int64
    /// `log.retention.bytes`: delete the oldest segments while the log is larger than this; -1 = no limit.
    public var retentionBytes: Int64
    /// `log.flush.interval.messages`: `needsFlush` once this many offsets are not fsynced.
    public var flushIntervalMessages: Int64
    /// `log.flush.interval.ms`: `needsFlush` once the last flush is older than this; nil = never forced.
    public var flushIntervalMs: Int64?
    /// `log.index.interval.bytes`: bytes of log between two offset index entries.
    public var indexIntervalBytes: Int
    /// `log.index.size.max.bytes`: size each index of the active segment is preallocated to; a segment
    /// whose index fills up is rolled.
    public var maxIndexSize: Int
    /// `message.max.bytes`: the largest batch a producer may append (MESSAGE_TOO_LARGE above it).
    public var messageMaxBytes: Int
    /// `cleanup.policy` contains `compact`: the log cleaner keeps the latest record of each key
    /// (`PartitionLog.clean`), and producers must give every record a key.
    public var compact: Bool
    /// `cleanup.policy` contains `delete`: `applyRetention` deletes segments by `log.retention.ms` and
    /// `log.retention.bytes`. Without it (`cleanup.policy=compact`) only segments below the log start
    /// offset are deleted, as in Kafka.
    public var delete: Bool
    /// `delete.retention.ms`: how long a tombstone (null value) survives after the cleaner first
    /// rewrote its batch (its delete horizon), so consumers reading from the start still see it.
    public var deleteRetentionMs: Int64
    /// `min.compaction.lag.ms`: a segment is not cleaned while its newest record is younger than this.
    public var minCompactionLagMs: Int64
    /// `max.compaction.lag.ms`: a dirty segment whose first batch is older than this must be cleaned
    /// whatever the dirty ratio.
    public var maxCompactionLagMs: Int64
    /// `min.cleanable.dirty.ratio`: clean once the dirty part is more than this share of the log.
    public var minCleanableDirtyRatio: Double

    /// Kafka's defaults. `delete` defaults to `!compact`: `compact: true` alone is
    /// `cleanup.policy=compact`; pass `delete: true` too for `compact,delete`.
    public init(
        segmentBytes: Int = 1 << 30,
        segmentMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        retentionMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        retentionBytes: Int64 = -1,
        flushIntervalMessages: Int64 = .max,
        flushIntervalMs: Int64? = nil,
        indexIntervalBytes: Int = 4096,
        maxIndexSize: Int = 10 * 1024 * 1024,
        messageMaxBytes: Int = 1_048_588,
        compact: Bool = false,
        delete: Bool? = nil,
        deleteRetentionMs: Int64 = 24 * 60 * 60 * 1000,
        minCompactionLagMs: Int64 = 0,
        maxCompactionLagMs: Int64 = .max,
        minCleanableDirtyRatio: Double = 0.5
    ) {
        self.segmentBytes = segmentBytes
        self.segmentMs = segmentMs
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.flushIntervalMessages = flushIntervalMessages
        self.flushIntervalMs = flushIntervalMs
        self.indexIntervalBytes = indexIntervalBytes
        self.maxIndexSize = maxIndexSize
        self.messageMaxBytes = messageMaxBytes
        self.compact = compact
        self.delete = delete ?? !compact
        self.deleteRetentionMs = deleteRetentionMs
        self.minCompactionLagMs = minCompactionLagMs
        self.maxCompactionLagMs = maxCompactionLagMs
        self.minCleanableDirtyRatio = minCleanableDirtyRatio
    }

    /// `cleanup.policy` as Kafka writes it: "delete", "compact", "compact,delete" (or "" for neither).
    public var cleanupPolicy: String {
        get { [compact ? "compact" : nil, delete ? "delete" : nil].compactMap { $0 }.joined(separator: ",") }
        set {
            let policies = newValue.split(separator: ",").map { $0.trimmingBlanks() }
            compact = policies.contains("compact")
            delete = policies.contains("delete")
        }
    }

    /// `segmentBytes` as the log applies it: at most Int32.max (index positions are int32).
    var effectiveSegmentBytes: Int { min(max(segmentBytes, RecordBatchHeader.size), Int(Int32.max)) }
}
