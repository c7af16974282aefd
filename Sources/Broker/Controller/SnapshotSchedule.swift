import MartletReplication

/// When a node snapshots its committed metadata (Kafka's `SnapshotGenerator`): once the entries
/// committed since the latest snapshot reach `metadata.log.max.record.bytes.between.snapshots`, or once
/// `metadata.log.max.snapshot.interval.ms` has passed since it and something new committed; never while
/// the previous one is still being written.
///
/// Bytes are the entries' payloads (the framed metadata records, Raft's leader changes and no-ops), not
/// the record batches around them; Kafka counts whole batches, so a threshold here is reached after
/// slightly more log than there.
struct SnapshotSchedule: Sendable {
    let maxBytes: Int64
    /// 0: by size only.
    let maxIntervalMs: Int64
    /// Committed entries below this offset are counted.
    private(set) var countedEnd: Int64
    private(set) var bytesSinceSnapshot: Int64 = 0
    /// When the latest snapshot was started or loaded; start-up counts as one, as in Kafka.
    private(set) var lastSnapshotMs: Int64
    /// A snapshot is being written off the driver.
    private(set) var isWriting = false

    init(maxBytes: Int64, maxIntervalMs: Int64, logStartOffset: Int64, nowMs: Int64) {
        self.maxBytes = maxBytes
        self.maxIntervalMs = maxIntervalMs
        countedEnd = logStartOffset
        lastSnapshotMs = nowMs
    }

    /// Counts the committed entry at `countedEnd`.
    mutating func count(_ entry: LogEntry) {
        precondition(entry.offset == countedEnd, "counted \(entry.offset), expected \(countedEnd)")
        bytesSinceSnapshot += Int64(entry.payload.size)
        countedEnd += 1
    }

    func isDue(nowMs: Int64) -> Bool {
        guard !isWriting, bytesSinceSnapshot > 0 else { return false }
        return bytesSinceSnapshot >= maxBytes || (maxIntervalMs > 0 && nowMs - lastSnapshotMs >= maxIntervalMs)
    }

    /// A snapshot of everything counted is being written: counting starts over, even if the write fails,
    /// so a failing disk is retried after another threshold rather than on every tick (Kafka's generator
    /// resets its counters before it writes, too).
    mutating func started(nowMs: Int64) {
        restart(at: countedEnd, nowMs: nowMs)
        isWriting = true
    }

    mutating func finished() { isWriting = false }

    /// A snapshot ending at `offset` was installed from the leader: counting starts over from there.
    mutating func restart(at offset: Int64, nowMs: Int64) {
        countedEnd = max(countedEnd, offset)
        bytesSinceSnapshot = 0
        lastSnapshotMs = nowMs
    }
}

extension SnapshotSchedule {
    /// The schedule `config` sets, counting from a log that starts at `logStartOffset`.
    init(config: BrokerConfig, logStartOffset: Int64, nowMs: Int64) {
        self.init(
            maxBytes: config.metadataSnapshotMaxNewRecordBytes, maxIntervalMs: config.metadataSnapshotMaxIntervalMs,
            logStartOffset: logStartOffset, nowMs: nowMs)
    }
}
