/// The first offset written in a leader epoch.
public struct LeaderEpochEntry: Hashable, Sendable, CustomStringConvertible {
    public var epoch: Int32
    public var startOffset: Int64

    public init(epoch: Int32, startOffset: Int64) {
        self.epoch = epoch
        self.startOffset = startOffset
    }

    public var description: String { "\(epoch)@\(startOffset)" }
}

/// Kafka's `LeaderEpochFileCache`: the start offset of each leader epoch in the log, kept in
/// `leader-epoch-checkpoint` (version 0, count, `epoch startOffset` lines). Epochs and start offsets
/// both strictly increase. It answers OffsetForLeaderEpoch, which followers use to find where their
/// log diverges from the leader's.
///
/// Every change is written to the checkpoint before the call returns; epochs change rarely (once per
/// leader election), so that costs nothing on the produce path. Not thread-safe.
final class LeaderEpochCache {
    static let version = 0
    let path: String
    private(set) var entries: [LeaderEpochEntry]

    /// Loads the checkpoint at `path` (none = empty).
    init(path: String) throws(LogError) {
        self.path = path
        var entries: [LeaderEpochEntry] = []
        if let lines = try CheckpointText.read(path: path, version: Self.version, fieldsPerEntry: 2) {
            for fields in lines {
                guard let epoch = Int32(fields[0]), let offset = Int64(fields[1]), epoch >= 0, offset >= 0 else {
                    throw .corruptCheckpoint(path: path, reason: "malformed entry \(fields.joined(separator: " "))")
                }
                if let last = entries.last, epoch <= last.epoch || offset < last.startOffset {
                    throw .corruptCheckpoint(path: path, reason: "entries are not increasing at \(epoch) \(offset)")
                }
                entries.append(LeaderEpochEntry(epoch: epoch, startOffset: offset))
            }
        }
        self.entries = entries
    }

    var latestEpoch: Int32? { entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset`, unless it is already the latest epoch with an
    /// earlier start. Entries with a later-or-equal epoch or start offset are removed first, as in
    /// Kafka. `persist: false` defers the write (recovery writes once at the end).
    func assign(epoch: Int32, startOffset: Int64, persist: Bool = true) throws(LogError) {
        guard epoch >= 0, startOffset >= 0 else { return }
        if let last = entries.last, last.epoch == epoch, last.startOffset <= startOffset { return }
        while let last = entries.last, last.epoch >= epoch || last.startOffset >= startOffset { entries.removeLast() }
        entries.append(LeaderEpochEntry(epoch: epoch, startOffset: startOffset))
        if persist { try self.persist() }
    }

    /// Kafka's `endOffsetFor`: the largest epoch <= `requestedEpoch` and the offset where the next
    /// epoch starts (the log end offset for the latest epoch); (-1, -1) for an undefined epoch or one
    /// above all known; (requestedEpoch, first start offset) for one below all known.
    func endOffset(for requestedEpoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        if requestedEpoch < 0 { return (-1, -1) }
        if let latest = latestEpoch, latest == requestedEpoch { return (requestedEpoch, logEndOffset) }
        guard let higher = entries.firstIndex(where: { $0.epoch > requestedEpoch }) else { return (-1, -1) }
        if higher == 0 { return (requestedEpoch, entries[0].startOffset) }
        return (entries[higher - 1].epoch, entries[higher].startOffset)
    }

    /// The epoch of the record at `offset`: the latest entry starting at or before it.
    func epoch(forOffset offset: Int64) -> Int32? {
        entries.last(where: { $0.startOffset <= offset })?.epoch
    }

    /// Removes the entries starting at or after `endOffset` (the log was truncated to it).
    func truncateFromEnd(_ endOffset: Int64) throws(LogError) {
        guard endOffset >= 0, let last = entries.last, last.startOffset >= endOffset else { return }
        entries.removeAll { $0.startOffset >= endOffset }
        try persist()
    }

    /// Drops the entries before `startOffset` (the log start moved up), keeping the epoch in effect
    /// there, now starting at `startOffset`.
    func truncateFromStart(_ startOffset: Int64) throws(LogError) {
        guard startOffset >= 0 else { return }
        let removed = entries.prefix(while: { $0.startOffset <= startOffset })
        guard let lastRemoved = removed.last, lastRemoved.startOffset != startOffset || removed.count > 1 else { return }
        entries.removeFirst(removed.count)
        entries.insert(LeaderEpochEntry(epoch: lastRemoved.epoch, startOffset: startOffset), at: 0)
        try persist()
    }

    /// Removes every entry (the log was emptied and restarted at a new offset).
    func clear() throws(LogError) {
        entries.removeAll()
        try persist()
    }

    func persist() throws(LogError) {
        try CheckpointText.write(
            version: Self.version, entries: entries.map { "\($0.epoch) \($0.startOffset)" }, to: path)
    }
}
