/// The core's in-memory view of the replicated log: entries after the latest snapshot, plus an index of
/// where each epoch starts (Kafka's leader-epoch cache). The driver keeps the real log on disk and is
/// told what to change through `LogOperation`s; this view is what the core reasons about.
struct RaftLog: Sendable {
    /// The snapshot the log starts after, if any: entries below its end offset are gone.
    private(set) var snapshotId: OffsetAndEpoch?
    /// Entries from `startOffset` up to `endOffset`, contiguous.
    private(set) var entries: [LogEntry] = []
    /// (epoch, first offset written in that epoch), ascending; the leader-epoch cache.
    private var epochStarts: [OffsetAndEpoch] = []

    init(snapshotId: OffsetAndEpoch?, entries: [LogEntry]) {
        self.snapshotId = snapshotId
        for entry in entries { append(entry) }
    }

    /// The first offset still in the log (the snapshot's end offset, or 0).
    var startOffset: Int64 { snapshotId?.offset ?? 0 }

    /// The offset the next appended entry gets.
    var endOffset: Int64 { startOffset + Int64(entries.count) }

    /// The epoch of the last entry, or of the snapshot when the log is empty after it.
    var lastEpoch: Int32 { entries.last?.epoch ?? snapshotId?.epoch ?? 0 }

    /// End offset and last epoch: what a voter advertises in a Vote and what a follower fetches from.
    var endOffsetAndEpoch: OffsetAndEpoch { OffsetAndEpoch(offset: endOffset, epoch: lastEpoch) }

    func entry(at offset: Int64) -> LogEntry? {
        guard offset >= startOffset, offset < endOffset else { return nil }
        return entries[Int(offset - startOffset)]
    }

    /// Entries from `offset` while their payloads fit in `maxBytes` (always at least one, as Kafka
    /// returns at least one batch so that a large record cannot stall replication).
    func entries(from offset: Int64, maxBytes: Int) -> [LogEntry] {
        guard offset >= startOffset, offset < endOffset else { return [] }
        var result: [LogEntry] = []
        var bytes = 0
        for entry in entries[Int(offset - startOffset)...] {
            bytes += entry.payload.size
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    /// Kafka's `endOffsetForEpoch`: the largest epoch not above `epoch` that this log holds, and the
    /// offset where it ends (where the next epoch starts, or the log end). A log whose entries all come
    /// after `epoch` answers with the snapshot (or the empty start).
    func endOffset(forEpoch epoch: Int32) -> OffsetAndEpoch {
        guard let index = epochStarts.lastIndex(where: { $0.epoch <= epoch }) else {
            return OffsetAndEpoch(offset: startOffset, epoch: snapshotId?.epoch ?? 0)
        }
        let end = index + 1 < epochStarts.count ? epochStarts[index + 1].offset : endOffset
        return OffsetAndEpoch(offset: end, epoch: epochStarts[index].epoch)
    }

    /// Kafka's `validateOffsetAndEpoch`, as the leader checks a follower's fetch position.
    func validate(fetchOffset: Int64, lastFetchedEpoch: Int32) -> FetchPositionCheck {
        if fetchOffset == 0 && startOffset == 0 { return .valid }
        if let snapshot = snapshotId,
            fetchOffset < startOffset || (fetchOffset == startOffset && lastFetchedEpoch != snapshot.epoch)
                || lastFetchedEpoch < snapshot.epoch
        {
            return .snapshot(snapshot)
        }
        let local = endOffset(forEpoch: lastFetchedEpoch)
        if local.epoch != lastFetchedEpoch || local.offset < fetchOffset { return .diverging(local) }
        return .valid
    }

    /// Where a follower told to diverge truncates to: no further than the leader's end of that epoch,
    /// nor than its own (Kafka's `truncateToEndOffset`).
    func truncationOffset(forDiverging leaderEnd: OffsetAndEpoch) -> Int64 {
        max(startOffset, min(endOffset(forEpoch: leaderEnd.epoch).offset, leaderEnd.offset))
    }

    mutating func append(_ entry: LogEntry) {
        precondition(entry.offset == endOffset, "append at \(entry.offset), log ends at \(endOffset)")
        if entry.epoch != epochStarts.last?.epoch {
            precondition(entry.epoch > (epochStarts.last?.epoch ?? Int32.min), "epochs must not go back")
            epochStarts.append(OffsetAndEpoch(offset: entry.offset, epoch: entry.epoch))
        }
        entries.append(entry)
    }

    /// Removes every entry at `offset` and above.
    mutating func truncate(to offset: Int64) {
        guard offset < endOffset else { return }
        precondition(offset >= startOffset, "truncation below the log start")
        entries.removeLast(Int(endOffset - offset))
        while let last = epochStarts.last, last.offset >= offset { epochStarts.removeLast() }
    }

    /// A snapshot now covers everything below `snapshot.offset`: drop that prefix. If the log does not
    /// reach the snapshot or disagrees with its epoch, the whole log goes (a follower installing a
    /// snapshot from the leader: Kafka's `truncateFullyAndStartAt`).
    mutating func startAfter(snapshot: OffsetAndEpoch) {
        guard snapshot.offset >= startOffset else { return }
        let consistent = snapshot.offset <= endOffset
            && (snapshot.offset == startOffset
                ? snapshot.epoch == (snapshotId?.epoch ?? 0) : entry(at: snapshot.offset - 1)?.epoch == snapshot.epoch)
        let kept = consistent ? Array(entries[Int(snapshot.offset - startOffset)...]) : []
        snapshotId = snapshot
        entries = []
        epochStarts = []
        for entry in kept { append(entry) }
    }
}

/// The leader's verdict on a follower's fetch position.
enum FetchPositionCheck: Equatable {
    /// The follower's log matches the leader's up to its fetch offset.
    case valid
    /// The follower's log diverges: it must truncate to at most this end of an epoch and fetch again.
    case diverging(OffsetAndEpoch)
    /// The position is below the leader's log start: fetch this snapshot first.
    case snapshot(OffsetAndEpoch)
}
