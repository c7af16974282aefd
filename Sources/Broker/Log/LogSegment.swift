import MartletProtocol
import NIOCore

/// Where a batch lies in a segment, from its header.
struct BatchInfo: Hashable {
    var position: Int
    var size: Int
    var baseOffset: Int64
    var lastOffset: Int64
    var maxTimestamp: Int64
    var partitionLeaderEpoch: Int32
    var nextOffset: Int64 { lastOffset + 1 }
    var end: Int { position + size }
}

/// How a header scan ended.
enum ScanEnd: Equatable {
    /// Reached the requested end exactly.
    case end
    /// The callback asked to stop.
    case stopped
    /// Bytes at `position` are not a whole v2 batch before the end (a torn or corrupt tail).
    case incomplete(position: Int)
}

/// One segment of a partition log: `<base>.log` (batches back to back), `<base>.index` and
/// `<base>.timeindex`.
///
/// The segment keeps what appends need in memory (size, bytes since the last index entry, the
/// largest timestamp so far and the offset of its batch) and answers position lookups with the
/// offset index plus a short scan of batch headers. Not thread-safe.
final class LogSegment {
    let baseOffset: Int64
    let directory: String
    let log: SegmentFile
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    /// Bytes of batches in the `.log`.
    private(set) var size: Int
    /// Largest batch `maxTimestamp` in the segment (-1 if none) and the last offset of its batch.
    var maxTimestampSoFar: Int64 = -1
    var offsetOfMaxTimestampSoFar: Int64 = -1
    var bytesSinceLastIndexEntry = 0
    /// The first batch's max timestamp, which `log.roll.ms` is measured from (Kafka's
    /// `rollingBasedTimestamp`); nil while empty, when the segment's creation time is used.
    var rollingBasedTimestamp: Int64?
    var createdMs: Int64

    private init(baseOffset: Int64, directory: String, log: SegmentFile, offsetIndex: OffsetIndex, timeIndex: TimeIndex, size: Int, now: Int64) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.size = size
        self.createdMs = now
    }

    /// The segment's file names, each followed by `suffix` (the cleaner's `.cleaned` and `.swap`).
    static func paths(directory: String, baseOffset: Int64, suffix: String = "") -> (log: String, index: String, timeIndex: String) {
        let prefix = FileIO.join(directory, LogFileNames.segmentPrefix(baseOffset))
        return (prefix + LogFileNames.logSuffix + suffix, prefix + LogFileNames.indexSuffix + suffix, prefix + LogFileNames.timeIndexSuffix + suffix)
    }

    var logPath: String { log.path }

    /// Creates an empty segment (replacing any files of that name) with its indexes preallocated.
    /// `suffix` names its files for the log cleaner (`.cleaned`); such a segment is renamed into place
    /// and opened again.
    static func create(directory: String, baseOffset: Int64, maxIndexSize: Int, now: Int64, suffix: String = "") throws(LogError) -> LogSegment {
        let paths = paths(directory: directory, baseOffset: baseOffset, suffix: suffix)
        try FileIO.unlink(paths.index)
        try FileIO.unlink(paths.timeIndex)
        let segment = LogSegment(
            baseOffset: baseOffset, directory: directory,
            log: try SegmentFile.open(paths.log, create: true, truncate: true),
            offsetIndex: try OffsetIndex(path: paths.index, baseOffset: baseOffset, create: true),
            timeIndex: try TimeIndex(path: paths.timeIndex, baseOffset: baseOffset, create: true),
            size: 0, now: now)
        try segment.preallocateIndexes(maxIndexSize: maxIndexSize)
        return segment
    }

    /// Opens an existing segment. `indexesMissing` says an index file had to be created, so the
    /// segment's indexes must be rebuilt.
    static func open(directory: String, baseOffset: Int64, now: Int64) throws(LogError) -> (segment: LogSegment, indexesMissing: Bool) {
        let paths = paths(directory: directory, baseOffset: baseOffset)
        let missing = !FileIO.exists(paths.index) || !FileIO.exists(paths.timeIndex)
        let log = try SegmentFile.open(paths.log, create: false)
        let segment = LogSegment(
            baseOffset: baseOffset, directory: directory, log: log,
            offsetIndex: try OffsetIndex(path: paths.index, baseOffset: baseOffset, create: true),
            timeIndex: try TimeIndex(path: paths.timeIndex, baseOffset: baseOffset, create: true),
            size: try log.size(), now: now)
        if let last = segment.timeIndex.lastEntry {
            segment.maxTimestampSoFar = last.timestamp
            segment.offsetOfMaxTimestampSoFar = last.offset
        }
        segment.bytesSinceLastIndexEntry = segment.size - (segment.offsetIndex.lastEntry?.position ?? 0)
        return (segment, missing)
    }

    var isEmpty: Bool { size == 0 }

    // MARK: Appending

    /// Records `bytes` written at the end of the `.log` by the caller (one write for all batches).
    func didWrite(bytes: Int) { size += bytes }

    /// Updates the in-memory maximum and the indexes for one batch just written at `batch.position`.
    /// Recovery calls it too, so rebuilt indexes equal the ones appends made.
    func indexBatch(_ batch: BatchInfo, indexIntervalBytes: Int) {
        if batch.position == 0 { rollingBasedTimestamp = batch.maxTimestamp }
        if batch.maxTimestamp > maxTimestampSoFar {
            maxTimestampSoFar = batch.maxTimestamp
            offsetOfMaxTimestampSoFar = batch.lastOffset
        }
        if bytesSinceLastIndexEntry > indexIntervalBytes {
            offsetIndex.append(offset: batch.lastOffset, position: batch.position)
            timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar)
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += batch.size
    }

    /// Empties the indexes and the in-memory state derived from batches, before a rebuild.
    func resetIndexes() {
        offsetIndex.reset()
        timeIndex.reset()
        maxTimestampSoFar = -1
        offsetOfMaxTimestampSoFar = -1
        bytesSinceLastIndexEntry = 0
        rollingBasedTimestamp = nil
    }

    /// Grows both index files to `maxIndexSize` (sparse) so appends never resize them.
    func preallocateIndexes(maxIndexSize: Int) throws(LogError) {
        try offsetIndex.file.resize(to: max(maxIndexSize, 2 * OffsetIndex.entrySize))
        try timeIndex.file.resize(to: max(maxIndexSize, 2 * TimeIndex.entrySize))
    }

    /// When the segment stops being the active one (roll, close): records the final maximum timestamp
    /// in the time index and trims both index files to their entries.
    func seal() throws(LogError) {
        if maxTimestampSoFar >= 0 {
            timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar, force: true)
        }
        try offsetIndex.file.trimToValidSize()
        try timeIndex.file.trimToValidSize()
    }

    /// Kafka's `log.roll.ms` test (`LogSegment.shouldRoll`): the incoming batches' largest timestamp
    /// is more than `ms` after the segment's first batch's; if that batch has no timestamp, `now` is
    /// more than `ms` after the segment was created (or loaded).
    func isOlder(than ms: Int64, incomingMaxTimestamp: Int64, now: Int64) -> Bool {
        if let first = rollingBasedTimestamp, first >= 0 { return incomingMaxTimestamp - first > ms }
        return now - createdMs > ms
    }

    /// Kafka's `largestTimestamp` for time retention: the largest record timestamp, or the file's
    /// modification time when no batch carries one.
    func largestTimestamp() throws(LogError) -> Int64 {
        maxTimestampSoFar >= 0 ? maxTimestampSoFar : try FileIO.modificationTime(log.descriptor, path: log.path)
    }

    // MARK: Reading

    /// Calls `body` with the header of each batch from `position` (a batch boundary) until it returns
    /// false or the scan reaches `end` (the segment's size by default). Headers are read in chunks
    /// into `scratch`: one `pread` covers many small batches, and a large batch costs one `pread`.
    /// Checks only the header (magic 2, a valid length, the batch fits before `end`), never the CRC.
    func forEachBatch(
        from position: Int, to end: Int? = nil, scratch: ScratchBuffer, _ body: (BatchInfo) -> Bool
    ) throws(LogError) -> ScanEnd {
        let end = min(end ?? size, size)
        var position = position
        var chunkStart = 0
        var chunkLength = 0
        while position < end {
            guard position + RecordBatchHeader.size <= end else { return .incomplete(position: position) }
            if position < chunkStart || position + RecordBatchHeader.size > chunkStart + chunkLength {
                let length = min(scratch.bytes.count, end - position)
                chunkLength = try log.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch.bytes[..<length]), at: Int64(position))
                chunkStart = position
                guard chunkLength >= RecordBatchHeader.size else { return .incomplete(position: position) }
            }
            guard let info = Self.parseHeader(scratch.bytes.baseAddress! + (position - chunkStart), position: position),
                position + info.size <= end
            else { return .incomplete(position: position) }
            if !body(info) { return .stopped }
            position += info.size
        }
        return .end
    }

    /// The first batch whose last offset is >= `offset`, found from the offset index; nil if the
    /// segment ends before.
    func locate(offset: Int64, scratch: ScratchBuffer) throws(LogError) -> BatchInfo? {
        let start = offsetIndex.lookup(offset).position
        var found: BatchInfo?
        _ = try forEachBatch(from: start, scratch: scratch) { batch in
            if batch.lastOffset >= offset {
                found = batch
                return false
            }
            return true
        }
        return found
    }

    /// The largest batch boundary in [from, limit], scanning from `from` (a boundary) or from the
    /// last indexed batch at or before `limit`, whichever is later. `nextOffset` becomes the offset
    /// after the last batch that fits (unchanged if none).
    func lastBatchBoundary(from: Int, notAfter limit: Int, scratch: ScratchBuffer, nextOffset: inout Int64) throws(LogError) -> Int {
        let indexed = offsetIndex.lookup(position: limit).position
        var boundary = from
        var next = nextOffset
        var start = from
        if indexed > from {
            // The indexed batch starts at a boundary; its own header is read by the scan below.
            start = indexed
            boundary = indexed
        }
        _ = try forEachBatch(from: start, to: limit, scratch: scratch) { batch in
            boundary = batch.end
            next = batch.nextOffset
            return true
        }
        if boundary > from && start > from && boundary == start {
            // Only the indexed position itself fits: the batch before it ended there.
            next = try batchStarting(at: start, scratch: scratch)?.baseOffset ?? next
        }
        nextOffset = next
        return boundary
    }

    /// The header of the batch at `position`, if a whole batch starts there.
    func batchStarting(at position: Int, scratch: ScratchBuffer) throws(LogError) -> BatchInfo? {
        var found: BatchInfo?
        _ = try forEachBatch(from: position, scratch: scratch) { batch in
            found = batch
            return false
        }
        return found
    }

    /// Reads `length` bytes at `position` into `buffer`.
    func read(position: Int, length: Int, into buffer: inout ByteBuffer) throws(LogError) {
        var failure: LogError?
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { bytes in
            do throws(LogError) {
                return try log.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<length]), at: Int64(position))
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        guard read == length else { throw LogError.io(operation: "pread (short read)", path: log.path, errno: 0) }
    }

    /// The bytes of one batch.
    func readBatch(_ batch: BatchInfo, allocator: ByteBufferAllocator = .init()) throws(LogError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: batch.size)
        try read(position: batch.position, length: batch.size, into: &buffer)
        return buffer
    }

    // MARK: Truncation and deletion

    /// Cuts the `.log` at `position` (a batch boundary) and drops the index entries past it, then
    /// recomputes the largest timestamp from the last time index entry that remains.
    func truncate(toPosition position: Int, nextOffset: Int64, scratch: ScratchBuffer) throws(LogError) {
        guard position < size else { return }
        try log.truncate(to: position)
        size = position
        offsetIndex.truncate(fromPosition: position)
        timeIndex.truncate(fromOffset: nextOffset)
        bytesSinceLastIndexEntry = size - (offsetIndex.lastEntry?.position ?? 0)
        if size == 0 { rollingBasedTimestamp = nil }
        maxTimestampSoFar = -1
        offsetOfMaxTimestampSoFar = -1
        var start = 0
        if let last = timeIndex.lastEntry {
            maxTimestampSoFar = last.timestamp
            offsetOfMaxTimestampSoFar = last.offset
            start = offsetIndex.lookup(last.offset).position
        }
        _ = try forEachBatch(from: start, scratch: scratch) { batch in
            if batch.maxTimestamp > maxTimestampSoFar {
                maxTimestampSoFar = batch.maxTimestamp
                offsetOfMaxTimestampSoFar = batch.lastOffset
            }
            return true
        }
    }

    /// Cuts the `.log` at `position` during recovery (indexes are being rebuilt by the caller).
    func truncateForRecovery(toPosition position: Int) throws(LogError) {
        try log.truncate(to: position)
        size = position
    }

    /// Unmaps the indexes; the descriptors close with the last reference to the files.
    func close() {
        offsetIndex.file.close()
        timeIndex.file.close()
    }

    /// Deletes the segment: renames its files to `.deleted` (the `.log` first: from then on the segment
    /// no longer exists for recovery), then removes them. In-flight reads keep their open descriptor.
    func delete() throws(LogError) {
        close()
        let paths = Self.paths(directory: directory, baseOffset: baseOffset)
        for path in [paths.log, paths.index, paths.timeIndex] {
            if FileIO.exists(path) { try FileIO.rename(path, path + LogFileNames.deletedSuffix) }
        }
        for path in [paths.log, paths.index, paths.timeIndex] { try FileIO.unlink(path + LogFileNames.deletedSuffix) }
    }

    /// Parses the header fields the log needs from 61 bytes at `pointer`; nil if not a v2 header with a
    /// valid length.
    static func parseHeader(_ pointer: UnsafeRawPointer, position: Int) -> BatchInfo? {
        func int64(_ at: Int) -> Int64 { Int64(bigEndian: pointer.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        func int32(_ at: Int) -> Int32 { Int32(bigEndian: pointer.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        let magic = pointer.load(fromByteOffset: RecordBatchHeader.Offset.magic, as: Int8.self)
        let length = int32(RecordBatchHeader.Offset.batchLength)
        guard magic == RecordBatchHeader.currentMagic, length >= RecordBatchHeader.minimumBatchLength else { return nil }
        let baseOffset = int64(RecordBatchHeader.Offset.baseOffset)
        let lastOffsetDelta = int32(RecordBatchHeader.Offset.lastOffsetDelta)
        guard lastOffsetDelta >= 0 else { return nil }
        return BatchInfo(
            position: position, size: RecordBatchHeader.logOverhead + Int(length), baseOffset: baseOffset,
            lastOffset: baseOffset + Int64(lastOffsetDelta), maxTimestamp: int64(RecordBatchHeader.Offset.maxTimestamp),
            partitionLeaderEpoch: int32(RecordBatchHeader.Offset.partitionLeaderEpoch))
    }
}
