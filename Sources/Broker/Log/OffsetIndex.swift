/// A segment's sparse offset index, Kafka's `.index`: 8-byte entries of int32 offset relative to the
/// segment's base offset and int32 position in the `.log`, both increasing.
///
/// As in Kafka, an entry is added for a batch once more than `log.index.interval.bytes` were appended
/// since the previous entry, and maps that batch's *last* offset to its position: the largest entry
/// with offset <= a target points at a batch at or before the one holding the target, and a short
/// scan of batch headers (at most about an index interval) finds it.
final class OffsetIndex {
    static let entrySize = 8

    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64, create: Bool) throws(LogError) {
        self.baseOffset = baseOffset
        self.file = try IndexFile(path: path, entrySize: Self.entrySize, create: create)
    }

    var entries: Int { file.entries }
    var isFull: Bool { file.isFull }

    func entry(_ index: Int) -> (offset: Int64, position: Int) {
        (baseOffset + Int64(file.int32(entry: index, at: 0)), Int(file.int32(entry: index, at: 4)))
    }

    var lastEntry: (offset: Int64, position: Int)? { entries > 0 ? entry(entries - 1) : nil }

    /// The entry with the largest offset <= `offset`, or (baseOffset, 0) if there is none.
    func lookup(_ offset: Int64) -> (offset: Int64, position: Int) {
        let slot = largestSlot { $0.offset <= offset }
        return slot < 0 ? (baseOffset, 0) : entry(slot)
    }

    /// The entry with the largest position <= `position`, or (baseOffset, 0) if there is none.
    func lookup(position: Int) -> (offset: Int64, position: Int) {
        let slot = largestSlot { $0.position <= position }
        return slot < 0 ? (baseOffset, 0) : entry(slot)
    }

    /// Adds an entry; offsets and positions must increase. Ignored when the index is full (the
    /// segment is rolled before the next append) or the offset does not fit in 32 bits relative.
    func append(offset: Int64, position: Int) {
        guard !isFull, offset - baseOffset <= Int64(Int32.max), offset >= baseOffset else { return }
        if let last = lastEntry, offset <= last.offset || position <= last.position { return }
        let bytes = file.appendEntry()
        bytes.storeBigEndian(Int32(offset - baseOffset), at: 0)
        bytes.storeBigEndian(Int32(position), at: 4)
    }

    /// Removes the entries for batches at `position` and after.
    func truncate(fromPosition position: Int) {
        file.setEntries(largestSlot { $0.position < position } + 1)
    }

    func reset() { file.setEntries(0) }

    /// Kafka's cheap sanity check on load: whole entries, and the last entry within the segment
    /// (offset below `nextSegmentBaseOffset`, position inside the log of `logSize` bytes, never 0:
    /// the first batch of a segment is never indexed).
    func isConsistent(logSize: Int, nextSegmentBaseOffset: Int64?) -> Bool {
        guard let last = lastEntry else { return true }
        let first = entry(0)
        guard first.offset >= baseOffset, first.position > 0, first.offset <= last.offset,
            first.position <= last.position, last.position < logSize
        else { return false }
        if let next = nextSegmentBaseOffset, last.offset >= next { return false }
        return true
    }

    /// Binary search: the last slot whose entry satisfies `predicate` (which must hold for a prefix).
    private func largestSlot(_ predicate: ((offset: Int64, position: Int)) -> Bool) -> Int {
        var low = 0
        var high = entries - 1
        var found = -1
        while low <= high {
            let middle = (low + high) / 2
            if predicate(entry(middle)) {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}
