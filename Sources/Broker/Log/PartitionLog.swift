import MartletProtocol
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk log of one partition, in Kafka's layout: `<log.dir>/<topic>-<partition>/` holding
/// segments named by their 20-digit base offset (`.log`, `.index`, `.timeindex`),
/// `leader-epoch-checkpoint` and `partition.metadata`.
///
/// Appends assign offsets and write all batches of a call with one `pwritev`; reads return file
/// slices for `sendfile`; opening recovers from the recovery point (see `open`).
///
/// Threading: not thread-safe and deliberately not `Sendable`. A partition is owned by one event loop
/// (or serial executor), which makes every call; keep it in a `NIOLoopBound`/`NIOLoopBoundBox` to hand
/// it around. What crosses threads is `Sendable` on purpose: `LogReadResult` (its `SegmentFile`s are
/// immutable and reference counted) and `FlushRequest` (fsync off the loop).
public final class PartitionLog {
    public let topic: String
    public let partition: Int32
    /// The partition directory, `<log.dir>/<topic>-<partition>`.
    public let directory: String
    /// Size, age, flush and index settings; may be replaced at any time (applies from the next append).
    public var config: LogConfig
    /// The topic id from `partition.metadata`, if known.
    public internal(set) var topicId: KafkaUUID?
    /// The first offset readable; raised by DeleteRecords and retention.
    public internal(set) var logStartOffset: Int64
    /// The offset the next record gets.
    public internal(set) var logEndOffset: Int64
    /// Every offset below it is fsynced (advanced by `flush`); recovery scans from here after a crash.
    public internal(set) var recoveryPoint: Int64
    /// What opening the log did.
    public internal(set) var recoveryReport: RecoveryReport
    /// Total bytes of all segments' `.log` files.
    public internal(set) var size: Int64
    /// When the log was last flushed (or opened), for `log.flush.interval.ms`.
    public internal(set) var lastFlushTime: Int64

    /// Segments by increasing base offset; the last is the active one. Never empty while open.
    var segments: [LogSegment]
    let epochCache: LeaderEpochCache
    /// For the creation time of segments made outside appends (which pass `now`).
    let clock: any LogClock
    let scratch = ScratchBuffer(capacity: 16 * 1024)
    let appendScratch = AppendScratch()
    var isClosed = false
    /// Bumped by truncation, so a flush prepared before it cannot advance the recovery point over
    /// rewritten offsets.
    var generation = 0
    /// Segment files were created since the last flush: the directory must be fsynced too.
    var directoryNeedsSync = false
    /// Where reads must stop for the last `upTo` offset seen (the high watermark rarely moves between
    /// fetches): (limit, base offset of the segment, position, offset of the batch there).
    var boundaryCache: (limit: Int64, segmentBase: Int64, position: Int, nextOffset: Int64)?
    /// The log cleaner's first dirty offset and delete horizons (PartitionLog+Compaction.swift).
    var cleanerState = CleanerState()

    init(
        topic: String, partition: Int32, directory: String, config: LogConfig, segments: [LogSegment],
        epochCache: LeaderEpochCache, logStartOffset: Int64, logEndOffset: Int64, recoveryPoint: Int64,
        report: RecoveryReport, clock: any LogClock, now: Int64
    ) {
        self.clock = clock
        self.topic = topic
        self.partition = partition
        self.directory = directory
        self.config = config
        self.segments = segments
        self.epochCache = epochCache
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
        self.recoveryPoint = recoveryPoint
        self.recoveryReport = report
        self.size = segments.reduce(0) { $0 + Int64($1.size) }
        self.lastFlushTime = now
    }

    var activeSegment: LogSegment { segments[segments.count - 1] }

    /// Base offset of the segment appends go to.
    public var activeSegmentBaseOffset: Int64 { activeSegment.baseOffset }
    /// Base offsets of all segments, oldest first.
    public var segmentBaseOffsets: [Int64] { segments.map(\.baseOffset) }
    /// The leader epoch cache's entries, oldest first.
    public var leaderEpochEntries: [LeaderEpochEntry] { epochCache.entries }
    /// The latest leader epoch written to the log (or assigned), if any.
    public var latestEpoch: Int32? { epochCache.latestEpoch }

    func checkOpen() throws(LogError) {
        if isClosed { throw .closed }
    }

    // MARK: Appending

    /// Appends batches from a Produce request as the partition leader.
    ///
    /// `batches` holds one or more whole v2 batches, already checked by the caller with
    /// `RecordBatch.validate(_:mode: .produce)` (CRC, counts). The log assigns consecutive offsets from
    /// the log end offset and stamps `leaderEpoch`: both fields sit outside the CRC, and they are
    /// written from a 16-byte patch per batch in the same `pwritev` as the rest of the bytes, so the
    /// caller's buffer (often a slice of the request) is never modified or copied. Rolls a new segment
    /// first if the active one would pass `log.segment.bytes`, is older than `log.roll.ms` or has a full
    /// index, then updates the indexes and the leader epoch cache (a new epoch starts at the first
    /// offset).
    ///
    /// Throws MESSAGE_TOO_LARGE for a batch over `message.max.bytes`, RECORD_LIST_TOO_LARGE if all
    /// batches exceed a segment, `.invalidRecords` for bytes that are not whole batches.
    @discardableResult
    public func appendAsLeader(_ batches: ByteBuffer, leaderEpoch: Int32, now: Int64) throws(LogError) -> AppendResult {
        try checkOpen()
        var summary = try summarize(batches, maxBatchBytes: config.messageMaxBytes)
        guard summary.batches > 0 else {
            return AppendResult(firstOffset: logEndOffset, lastOffset: logEndOffset - 1, logAppendTime: -1, maxTimestamp: -1,
                offsetOfMaxTimestamp: -1, bytes: 0, batches: 0, rolled: false)
        }
        let firstOffset = logEndOffset
        let rolled = try maybeRoll(
            bytes: summary.bytes, firstOffset: firstOffset, lastOffset: firstOffset + summary.offsetCount - 1,
            maxTimestamp: summary.maxTimestamp, now: now)
        let segment = activeSegment
        let position = segment.size
        try writePatched(batches, count: summary.batches, firstOffset: firstOffset, leaderEpoch: leaderEpoch, to: segment)

        // Second pass over the headers (no I/O): indexes and the result.
        var offset = firstOffset
        var index = batches.readerIndex
        var logAppendTime: Int64 = -1
        summary.maxTimestamp = -1
        summary.offsetOfMaxTimestamp = -1
        while index < batches.writerIndex {
            let header = try! RecordBatchHeader(from: batches, at: index)
            let info = BatchInfo(
                position: position + index - batches.readerIndex, size: header.batchSize, baseOffset: offset,
                lastOffset: offset + Int64(header.lastOffsetDelta), maxTimestamp: header.maxTimestamp,
                partitionLeaderEpoch: leaderEpoch)
            segment.indexBatch(info, indexIntervalBytes: config.indexIntervalBytes)
            if header.maxTimestamp > summary.maxTimestamp {
                summary.maxTimestamp = header.maxTimestamp
                summary.offsetOfMaxTimestamp = info.lastOffset
            }
            if header.attributes.timestampType == .logAppendTime { logAppendTime = header.maxTimestamp }
            offset = info.nextOffset
            index += header.batchSize
        }
        logEndOffset = offset
        size += Int64(summary.bytes)
        if leaderEpoch >= 0 { try epochCache.assign(epoch: leaderEpoch, startOffset: firstOffset) }
        return AppendResult(
            firstOffset: firstOffset, lastOffset: offset - 1, logAppendTime: logAppendTime,
            maxTimestamp: summary.maxTimestamp, offsetOfMaxTimestamp: summary.offsetOfMaxTimestamp,
            bytes: summary.bytes, batches: summary.batches, rolled: rolled)
    }

    /// Appends batches fetched from the leader, keeping their offsets and leader epochs.
    ///
    /// Each batch is validated (`.stored` mode: CRC, sizes), as Kafka does for replicated data. The
    /// first base offset must be >= the log end offset and offsets must increase (gaps are allowed,
    /// as compaction leaves them). A partial batch at the end (a fetch response cut at its size) is
    /// ignored. A batch with a higher leader epoch than the cache's latest starts a new epoch entry.
    /// The bytes go out in one `pwrite`, split only where a segment must roll between two batches
    /// (a fetch response may be larger than what is left of the segment); a single batch larger than
    /// a segment is RECORD_LIST_TOO_LARGE.
    @discardableResult
    public func appendAsFollower(_ batches: ByteBuffer, now: Int64) throws(LogError) -> AppendResult {
        try checkOpen()
        var sequence = RecordBatchSequence(batches).makeIterator()
        var expected = logEndOffset
        var first: Int64?
        var bytes = 0
        var count = 0
        var maxTimestamp: Int64 = -1
        var offsetOfMaxTimestamp: Int64 = -1
        while true {
            let header: RecordBatchHeader
            do {
                guard let batch = try sequence.nextBatch() else { break }
                header = try RecordBatch.validate(batch, mode: .stored)
            } catch {
                throw .invalidRecords(error)
            }
            guard header.baseOffset >= expected else {
                throw .invalidAppendOffset(offset: header.baseOffset, logEndOffset: logEndOffset)
            }
            if first == nil { first = header.baseOffset }
            if header.maxTimestamp > maxTimestamp {
                maxTimestamp = header.maxTimestamp
                offsetOfMaxTimestamp = header.lastOffset
            }
            expected = header.nextOffset
            bytes += header.batchSize
            count += 1
        }
        guard let firstOffset = first else {
            return AppendResult(firstOffset: logEndOffset, lastOffset: logEndOffset - 1, logAppendTime: -1, maxTimestamp: -1,
                offsetOfMaxTimestamp: -1, bytes: 0, batches: 0, rolled: false)
        }
        // Usually one write; more only where the batches must be split across a segment roll.
        var rolled = false
        var index = batches.readerIndex
        var remaining = count
        while remaining > 0 {
            let first = try! RecordBatchHeader(from: batches, at: index)
            guard first.batchSize <= config.effectiveSegmentBytes else {
                throw .recordListTooLarge(size: first.batchSize, segmentBytes: config.effectiveSegmentBytes)
            }
            if try maybeRoll(
                bytes: first.batchSize, firstOffset: first.baseOffset, lastOffset: first.lastOffset, maxTimestamp: maxTimestamp, now: now)
            {
                rolled = true
            }
            let segment = activeSegment
            var chunkBytes = first.batchSize
            var chunkBatches = 1
            while chunkBatches < remaining {
                let next = try! RecordBatchHeader(from: batches, at: index + chunkBytes)
                guard segment.size + chunkBytes + next.batchSize <= config.effectiveSegmentBytes,
                    next.lastOffset - segment.baseOffset <= Int64(Int32.max)
                else { break }
                chunkBytes += next.batchSize
                chunkBatches += 1
            }
            let position = segment.size
            let start = index - batches.readerIndex
            try batches.withUnsafeReadableBytes { (pointer) throws(LogError) in
                try write(UnsafeRawBufferPointer(rebasing: pointer[start..<start + chunkBytes]), to: segment, at: position)
            }
            segment.didWrite(bytes: chunkBytes)
            size += Int64(chunkBytes)
            for _ in 0..<chunkBatches {
                let header = try! RecordBatchHeader(from: batches, at: index)
                segment.indexBatch(
                    BatchInfo(position: position + index - batches.readerIndex - start, size: header.batchSize, baseOffset: header.baseOffset,
                        lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp, partitionLeaderEpoch: header.partitionLeaderEpoch),
                    indexIntervalBytes: config.indexIntervalBytes)
                let epoch = header.partitionLeaderEpoch
                if epoch >= 0 && epoch > (epochCache.latestEpoch ?? -1) {
                    try epochCache.assign(epoch: epoch, startOffset: header.baseOffset)
                }
                logEndOffset = header.nextOffset
                index += header.batchSize
            }
            remaining -= chunkBatches
        }
        return AppendResult(
            firstOffset: firstOffset, lastOffset: expected - 1, logAppendTime: -1, maxTimestamp: maxTimestamp,
            offsetOfMaxTimestamp: offsetOfMaxTimestamp, bytes: bytes, batches: count, rolled: rolled)
    }

    /// Records that `epoch` starts at `startOffset` (a new leader does this on election, before any
    /// append: Kafka's `maybeAssignEpochStartOffset`).
    public func assignEpochStartOffset(epoch: Int32, startOffset: Int64) throws(LogError) {
        try checkOpen()
        try epochCache.assign(epoch: epoch, startOffset: startOffset)
    }

    /// OffsetForLeaderEpoch: the largest epoch <= `epoch` and the offset where the epoch after it
    /// starts (the log end offset for the latest epoch); (-1, -1) if unknown. Kafka's
    /// `LeaderEpochFileCache.endOffsetFor`.
    public func endOffset(forLeaderEpoch epoch: Int32) -> (leaderEpoch: Int32, endOffset: Int64) {
        let result = epochCache.endOffset(for: epoch, logEndOffset: logEndOffset)
        return (result.epoch, result.endOffset)
    }

    /// The leader epoch of the record at `offset` (ListOffsets' leader epoch for earliest offsets).
    public func leaderEpoch(forOffset offset: Int64) -> Int32? { epochCache.epoch(forOffset: offset) }

    // MARK: Append internals

    struct Summary {
        var batches = 0
        var bytes = 0
        var offsetCount: Int64 = 0
        var maxTimestamp: Int64 = -1
        var offsetOfMaxTimestamp: Int64 = -1
    }

    /// First pass over a leader append: whole v2 batches, each within `maxBatchBytes`, all within a
    /// segment.
    func summarize(_ batches: ByteBuffer, maxBatchBytes: Int) throws(LogError) -> Summary {
        var summary = Summary()
        var index = batches.readerIndex
        while index < batches.writerIndex {
            let header: RecordBatchHeader
            do { header = try RecordBatchHeader(from: batches, at: index) } catch { throw .invalidRecords(error) }
            guard header.batchLength >= RecordBatchHeader.minimumBatchLength else {
                throw .invalidRecords(.invalidBatchLength(header.batchLength))
            }
            guard header.batchSize <= batches.writerIndex - index else {
                throw .invalidRecords(.truncated(needed: header.batchSize, available: batches.writerIndex - index))
            }
            guard header.lastOffsetDelta >= 0 else {
                throw .invalidRecords(.invalidOffsetRange(lastOffsetDelta: header.lastOffsetDelta, recordsCount: header.recordsCount))
            }
            guard header.batchSize <= maxBatchBytes else { throw .messageTooLarge(size: header.batchSize, maxBytes: maxBatchBytes) }
            summary.batches += 1
            summary.bytes += header.batchSize
            summary.offsetCount += Int64(header.lastOffsetDelta) + 1
            summary.maxTimestamp = max(summary.maxTimestamp, header.maxTimestamp)
            index += header.batchSize
        }
        guard summary.bytes <= config.effectiveSegmentBytes else {
            throw .recordListTooLarge(size: summary.bytes, segmentBytes: config.effectiveSegmentBytes)
        }
        return summary
    }

    /// Rolls a new segment at `firstOffset` if the active one is not empty and would exceed
    /// `log.segment.bytes`, is older than `log.roll.ms` (`maxTimestamp`: the incoming batches' largest),
    /// has a full index, or cannot hold `lastOffset` relative to its base in an index entry. Returns
    /// whether it rolled.
    func maybeRoll(bytes: Int, firstOffset: Int64, lastOffset: Int64, maxTimestamp: Int64, now: Int64) throws(LogError) -> Bool {
        let active = activeSegment
        let offsetOverflow = lastOffset - active.baseOffset > Int64(Int32.max)
        if active.isEmpty {
            guard offsetOverflow else { return false }
            // An empty segment whose base is too far below the new offsets: start it again there.
            try active.delete()
            segments.removeLast()
            segments.append(try LogSegment.create(directory: directory, baseOffset: firstOffset, maxIndexSize: config.maxIndexSize, now: now))
            directoryNeedsSync = true
            return true
        }
        guard active.size + bytes > config.effectiveSegmentBytes || active.isOlder(than: config.segmentMs, incomingMaxTimestamp: maxTimestamp, now: now)
            || active.offsetIndex.isFull || active.timeIndex.isFull || offsetOverflow
        else { return false }
        try roll(at: firstOffset, now: now)
        return true
    }

    /// Seals the active segment (final time index entry, indexes trimmed) and starts a new one at
    /// `baseOffset`. Its data is fsynced by the next flush (`needsFlush` says so).
    func roll(at baseOffset: Int64, now: Int64) throws(LogError) {
        try activeSegment.seal()
        segments.append(try LogSegment.create(directory: directory, baseOffset: baseOffset, maxIndexSize: config.maxIndexSize, now: now))
        directoryNeedsSync = true
    }

    /// Writes `count` batches from `batches` to the end of `segment` with one `pwritev`: per batch, a
    /// 16-byte patch (assigned base offset, original length, leader epoch) then the batch from byte 16.
    func writePatched(_ batches: ByteBuffer, count: Int, firstOffset: Int64, leaderEpoch: Int32, to segment: LogSegment) throws(LogError) {
        let (patches, vectors) = appendScratch.reserve(batches: count)
        let position = segment.size
        var failure: LogError?
        batches.withUnsafeReadableBytes { pointer in
            var offset = firstOffset
            var index = 0
            for batch in 0..<count {
                let start = pointer.baseAddress! + index
                let length = Int(Int32(bigEndian: start.loadUnaligned(fromByteOffset: RecordBatchHeader.Offset.batchLength, as: Int32.self)))
                let lastOffsetDelta = Int32(bigEndian: start.loadUnaligned(fromByteOffset: RecordBatchHeader.Offset.lastOffsetDelta, as: Int32.self))
                let patch = patches + batch * 16
                patch.storeBigEndian(offset, at: RecordBatchHeader.Offset.baseOffset)
                patch.storeBigEndian(Int32(length), at: RecordBatchHeader.Offset.batchLength)
                patch.storeBigEndian(leaderEpoch, at: RecordBatchHeader.Offset.partitionLeaderEpoch)
                let size = RecordBatchHeader.logOverhead + length
                vectors[2 * batch] = iovec(iov_base: patch, iov_len: 16)
                vectors[2 * batch + 1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: start + 16), iov_len: size - 16)
                offset += Int64(lastOffsetDelta) + 1
                index += size
            }
            do throws(LogError) {
                try FileIO.pwritev(segment.log.descriptor, UnsafeMutableBufferPointer(start: vectors, count: 2 * count), at: Int64(position), path: segment.logPath)
            } catch {
                failure = error
            }
        }
        if let failure {
            try? segment.log.truncate(to: position)  // do not leave part of the append behind
            throw failure
        }
        segment.didWrite(bytes: batches.readableBytes)
    }

    /// Writes `bytes` at `position` of `segment`'s `.log` with one `pwrite`, cutting a partial write off.
    func write(_ bytes: UnsafeRawBufferPointer, to segment: LogSegment, at position: Int) throws(LogError) {
        do {
            try FileIO.pwrite(segment.log.descriptor, bytes, at: Int64(position), path: segment.logPath)
        } catch {
            try? segment.log.truncate(to: position)
            throw error
        }
    }

    /// The index of the segment holding `offset` (the last with base <= offset), or nil if below all.
    func segmentIndex(for offset: Int64) -> Int? {
        var low = 0
        var high = segments.count - 1
        var found: Int?
        while low <= high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}

/// Memory for the header patches and `iovec`s of `writePatched`, grown as needed and reused, so an
/// append allocates nothing.
final class AppendScratch {
    private var capacity = 0
    private var patches = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    private var vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 2)

    func reserve(batches: Int) -> (patches: UnsafeMutableRawPointer, vectors: UnsafeMutablePointer<iovec>) {
        if batches > capacity {
            patches.deallocate()
            vectors.deallocate()
            capacity = max(batches, 2 * capacity, 4)
            patches = .allocate(byteCount: 16 * capacity, alignment: 16)
            vectors = .allocate(capacity: 2 * capacity)
        }
        return (patches, vectors)
    }

    deinit {
        patches.deallocate()
        vectors.deallocate()
    }
}
