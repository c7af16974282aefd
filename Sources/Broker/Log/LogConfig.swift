import MartletProtocol

/// Per-topic log settings, with Kafka's names and defaults. A plain value: the broker fills it from
/// `server.properties` and topic configs; `PartitionLog.config` may be replaced at any time (size and
/// age limits apply from the next append, `maxIndexSize` to segments created afterwards).
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

    public init(
        segmentBytes: Int = 1 << 30,
        segmentMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        retentionMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        retentionBytes: Int64 = -1,
        flushIntervalMessages: Int64 = .max,
        flushIntervalMs: Int64? = nil,
        indexIntervalBytes: Int = 4096,
        maxIndexSize: Int = 10 * 1024 * 1024,
        messageMaxBytes: Int = 1_048_588
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
    }

    /// `segmentBytes` as the log applies it: at most Int32.max (index positions are int32).
    var effectiveSegmentBytes: Int { min(max(segmentBytes, RecordBatchHeader.size), Int(Int32.max)) }
}
