/// A segment's time index, Kafka's `.timeindex`: 12-byte entries of int64 timestamp and int32 offset
/// relative to the segment's base offset. Each entry records the largest batch timestamp seen so far
/// and the (last) offset of the batch that carried it, so timestamps strictly increase.
///
/// An entry is considered together with each offset index entry, and once more when the segment is
/// rolled or closed (the segment's final maximum), as Kafka does.
final class TimeIndex {
    static let entrySize = 12

    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64, create: Bool) throws(LogError) {
        self.baseOffset = baseOffset
        self.file = try IndexFile(path: path, entrySize: Self.entrySize, create: create)
    }

    var entries: Int { file.entries }
    /// Full one entry early: the last slot is kept for the final entry written when rolling.
    var isFull: Bool { file.entries >= file.maxEntries - 1 }

    func entry(_ index: Int) -> (timestamp: Int64, offset: Int64) {
        (file.int64(entry: index, at: 0), baseOffset + Int64(file.int32(entry: index, at: 8)))
    }

    var lastEntry: (timestamp: Int64, offset: Int64)? { entries > 0 ? entry(entries - 1) : nil }

    /// The entry with the largest timestamp <= `timestamp`, or (-1, baseOffset) if there is none.
    func lookup(_ timestamp: Int64) -> (timestamp: Int64, offset: Int64) {
        var low = 0
        var high = entries - 1
        var found = -1
        while low <= high {
            let middle = (low + high) / 2
            if entry(middle).timestamp <= timestamp {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found < 0 ? (-1, baseOffset) : entry(found)
    }

    /// Appends (timestamp, offset) if the timestamp is larger than the last entry's (and >= 0).
    /// `force` uses the reserved last slot (rolling, closing).
    func maybeAppend(timestamp: Int64, offset: Int64, force: Bool = false) {
        guard timestamp > (lastEntry?.timestamp ?? -1), offset >= baseOffset, offset - baseOffset <= Int64(Int32.max) else { return }
        if let last = lastEntry, offset < last.offset { return }
        guard force ? entries < file.maxEntries : !isFull else { return }
        let bytes = file.appendEntry()
        bytes.storeBigEndian(timestamp, at: 0)
        bytes.storeBigEndian(Int32(offset - baseOffset), at: 8)
    }

    /// Removes the entries for offsets >= `offset`.
    func truncate(fromOffset offset: Int64) {
        var keep = entries
        while keep > 0 && entry(keep - 1).offset >= offset { keep -= 1 }
        file.setEntries(keep)
    }

    func reset() { file.setEntries(0) }

    /// Kafka's sanity check on load: the last entry's timestamp is not below the first's, and its
    /// offset lies in the segment.
    func isConsistent(nextSegmentBaseOffset: Int64?) -> Bool {
        guard let last = lastEntry else { return true }
        let first = entry(0)
        guard first.offset >= baseOffset, last.timestamp >= first.timestamp, last.offset >= first.offset else { return false }
        if let next = nextSegmentBaseOffset, last.offset >= next { return false }
        return true
    }
}
