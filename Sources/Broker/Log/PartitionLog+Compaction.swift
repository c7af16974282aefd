import MartletProtocol
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the log keeps for its cleaner between passes.
struct CleanerState {
    /// The first dirty offset (`cleaner-offset-checkpoint`); nil: from the log start.
    var checkpoint: Int64?
    /// The earliest delete horizon of a batch still holding tombstones, as seen by the last pass (in
    /// memory only): from then on a pass removes them.
    var earliestDeleteHorizon: Int64?

    /// Tests: where `clean` stops as if the broker crashed (it throws there).
    var crashPoint: CleaningCrashPoint?

    func simulateCrash(at point: CleaningCrashPoint) throws(LogError) {
        if crashPoint == point { throw .io(operation: "simulated crash (\(point))", path: "", errno: 0) }
    }

    /// Truncation below the checkpoint makes the offsets above it dirty again (Kafka's
    /// `LogCleanerManager.maybeTruncateCheckpoint`).
    mutating func truncate(to offset: Int64) {
        if let checkpoint, checkpoint > offset { self.checkpoint = offset }
    }
}

/// Steps of a segment replacement where tests make `clean` stop, to check recovery.
enum CleaningCrashPoint: Hashable {
    /// The `.cleaned` files are written and fsynced.
    case cleanedWritten
    /// They are renamed to `.swap`.
    case swapped
    /// The old segments are deleted too.
    case oldSegmentsDeleted
    /// The `.log.swap` is renamed into place, not the index files.
    case logInstalled
}

/// Where a compacted log's dirty part lies and how dirty it is (Kafka's `LogToClean` and
/// `LogCleanerManager.cleanableOffsets`).
public struct CleanableRange: Hashable, Sendable {
    /// The first offset not cleaned yet: the cleaner checkpoint, or the log start offset if there is
    /// none or it is outside the log.
    public var firstDirtyOffset: Int64
    /// Where cleaning must stop: the base offset of the active segment, of the segment holding the
    /// high watermark, or of the first dirty segment with a record newer than `min.compaction.lag.ms`,
    /// whichever is lowest.
    public var firstUncleanableOffset: Int64
    /// Bytes of the segments wholly below the first dirty offset.
    public var cleanBytes: Int64
    /// Bytes of the dirty segments below the first uncleanable offset.
    public var cleanableBytes: Int64
    /// cleanableBytes / (cleanBytes + cleanableBytes), 0 for an empty log.
    public var dirtyRatio: Double
    /// How long past `max.compaction.lag.ms` the oldest dirty segment's first batch is (0 if not).
    public var maxCompactionDelayMs: Int64
}

/// Limits of one cleaning pass, so the owner can clean a large log a piece at a time.
public struct CleaningOptions: Sendable {
    /// Stop mapping dirty segments once the key -> offset map holds this many bytes
    /// (`log.cleaner.dedupe.buffer.size`, 128 MiB in Kafka). Checked between segments: one segment
    /// is always mapped, and the last one may take the map past the budget.
    public var maxOffsetMapBytes: Int
    /// Stop mapping once this many bytes of dirty segments are mapped (checked between segments).
    public var maxDirtyBytes: Int64
    /// Stop mapping after this time of the log's monotonic clock (`LogClock.monotonicNanoseconds`),
    /// checked between segments.
    public var deadlineNanoseconds: UInt64?
    /// Never clean at or past the segment holding this offset (the high watermark / last stable
    /// offset, as Kafka does); nil: up to the active segment.
    public var highWatermark: Int64?
    /// The last offset of each active producer's last batch (from the idempotent producer state); a
    /// batch losing all its records is kept empty if it is one of those. Nil: found by a scan of the
    /// batch headers of the whole log when first needed.
    public var producerLastOffsets: [Int64: Int64]?

    public init(
        maxOffsetMapBytes: Int = 128 << 20, maxDirtyBytes: Int64 = .max, deadlineNanoseconds: UInt64? = nil,
        highWatermark: Int64? = nil, producerLastOffsets: [Int64: Int64]? = nil
    ) {
        self.maxOffsetMapBytes = maxOffsetMapBytes
        self.maxDirtyBytes = maxDirtyBytes
        self.deadlineNanoseconds = deadlineNanoseconds
        self.highWatermark = highWatermark
        self.producerLastOffsets = producerLastOffsets
    }
}

/// What a cleaning pass did.
public struct CleaningResult: Hashable, Sendable {
    /// The first dirty offset before the pass.
    public var firstDirtyOffset: Int64
    /// The first dirty offset after it: the new `cleanerCheckpoint`, which the broker writes to
    /// `cleaner-offset-checkpoint`.
    public var cleanedUpTo: Int64
    /// Whether every cleanable dirty segment was mapped; false if a limit of `CleaningOptions` stopped
    /// the pass early (run another one).
    public var complete = true
    /// Distinct keys in the dirty part that was mapped.
    public var keys = 0
    /// Segments rewritten and the segments that replaced them.
    public var segmentsCleaned = 0
    public var segmentsWritten = 0
    public var bytesRead: Int64 = 0
    public var bytesWritten: Int64 = 0
    /// Records in the rewritten segments, and how many were kept.
    public var recordsRead = 0
    public var recordsRetained = 0
    /// Tombstones removed after their delete horizon.
    public var tombstonesRemoved = 0
    /// Batches that lost all their records and were dropped, or kept empty (a producer's last batch).
    public var batchesRemoved = 0
    public var emptyBatchesRetained = 0
    public var durationNanoseconds: UInt64 = 0
}

extension OffsetCheckpointFile {
    /// Kafka's `cleaner-offset-checkpoint`: the first dirty offset of each compacted partition of a
    /// log directory.
    public static let cleanerOffsetFileName = "cleaner-offset-checkpoint"
}

extension PartitionLog {
    // MARK: Dirtiness

    /// The cleaner's checkpoint: every offset below it has been cleaned (deduplicated against the
    /// offsets above). The broker sets it after `open` from `cleaner-offset-checkpoint` and writes it
    /// back after each `clean` (and with its other checkpoints, since truncation may lower it).
    public var cleanerCheckpoint: Int64? {
        get { cleanerState.checkpoint }
        set { cleanerState.checkpoint = newValue }
    }

    /// The first offset not cleaned yet, within [logStartOffset, logEndOffset].
    var firstDirtyOffset: Int64 {
        guard let checkpoint = cleanerState.checkpoint, checkpoint >= logStartOffset, checkpoint <= logEndOffset else {
            return logStartOffset
        }
        return checkpoint
    }

    /// Where the dirty part lies and how dirty it is, at `now`.
    public func cleanableRange(now: Int64, highWatermark: Int64? = nil) throws(LogError) -> CleanableRange {
        try checkOpen()
        let firstDirty = firstDirtyOffset
        var limit = activeSegment.baseOffset
        if let highWatermark {
            let index = segmentIndex(for: highWatermark) ?? 0
            limit = min(limit, segments[index].baseOffset)
        }
        let firstDirtyIndex = segmentIndex(for: firstDirty) ?? 0
        if config.minCompactionLagMs > 0 {
            for segment in segments[firstDirtyIndex...] where segment.baseOffset < limit {
                if try segment.largestTimestamp() > now - config.minCompactionLagMs {
                    limit = segment.baseOffset
                    break
                }
            }
        }
        var cleanBytes: Int64 = 0
        var cleanableBytes: Int64 = 0
        var earliestDirtyTimestamp = Int64.max
        for index in 0..<segments.count - 1 where segments[index].baseOffset < limit {
            let segment = segments[index]
            if segments[index + 1].baseOffset <= firstDirty {
                cleanBytes += Int64(segment.size)
            } else {
                cleanableBytes += Int64(segment.size)
                if config.maxCompactionLagMs < .max, let first = try segment.batchStarting(at: 0, scratch: scratch), first.maxTimestamp > 0 {
                    earliestDirtyTimestamp = min(earliestDirtyTimestamp, first.maxTimestamp)
                }
            }
        }
        let total = cleanBytes + cleanableBytes
        let cleanUntil = now - max(config.maxCompactionLagMs, 0)
        return CleanableRange(
            firstDirtyOffset: firstDirty, firstUncleanableOffset: max(limit, firstDirty), cleanBytes: cleanBytes,
            cleanableBytes: cleanableBytes, dirtyRatio: total > 0 ? Double(cleanableBytes) / Double(total) : 0,
            maxCompactionDelayMs: earliestDirtyTimestamp < cleanUntil ? cleanUntil - earliestDirtyTimestamp : 0)
    }

    /// The share of the log's cleanable bytes that is dirty, now (by the log's clock).
    public var dirtyRatio: Double {
        (try? cleanableRange(now: clock.milliseconds()))?.dirtyRatio ?? 0
    }

    /// Whether the broker's maintenance loop should run `clean` on this log (Kafka's
    /// `LogCleanerManager.grabFilthiestCompactedLog` filter): a compacted log with cleanable bytes that
    /// are more than `min.cleanable.dirty.ratio` of it, or whose oldest dirty batch is older than
    /// `max.compaction.lag.ms`; or, known from the last pass, a tombstone past its delete horizon.
    public func needsCleaning(now: Int64, highWatermark: Int64? = nil) -> Bool {
        guard config.compact, !isClosed, let range = try? cleanableRange(now: now, highWatermark: highWatermark) else { return false }
        if range.cleanableBytes > 0 && (range.maxCompactionDelayMs > 0 || range.dirtyRatio > config.minCleanableDirtyRatio) { return true }
        if let horizon = cleanerState.earliestDeleteHorizon, now >= horizon { return true }
        return false
    }

    // MARK: Cleaning

    /// One pass of Kafka's log cleaner (`LogCleaner.Cleaner.doClean`), synchronous, on the owner's
    /// executor; `now` is the wall clock for delete horizons and compaction lags.
    ///
    /// 1. Maps key -> latest offset over the dirty segments, from the first dirty offset up to the
    ///    first uncleanable offset (`cleanableRange`), segment by segment while `options` allow.
    /// 2. Rewrites every segment below the end of that map, from the oldest, in groups of adjacent
    ///    segments whose sizes add up to at most `segment.bytes` (and whose indexes fit), each group
    ///    into one segment named by its first base offset. A record is kept if no later record of the
    ///    log has its key; a record without a key is dropped; a tombstone is kept until the delete
    ///    horizon of its batch: the first pass that keeps it rewrites the batch with
    ///    `hasDeleteHorizonMs` and baseTimestamp = now + `delete.retention.ms` (KIP-534), and a pass
    ///    after that time drops it. Batches keep their base offset, last offset delta, producer fields
    ///    and leader epoch (offsets never change), are re-compressed with their own codec, and are
    ///    copied unchanged when nothing in them changes. A batch that loses all its records is dropped,
    ///    unless it is the last batch of a producer: then it stays as an empty batch, so the producer's
    ///    sequence and epoch survive. Control batches are kept.
    /// 3. Replaces each group crash-safely, as Kafka does: the new segment is written as `.cleaned`
    ///    files (with rebuilt offset and time indexes) and fsynced, renamed to `.swap` (the commit
    ///    point: a restart completes the swap), the old segments are renamed to `.deleted` and removed,
    ///    and the `.swap` files renamed into place. Reads in flight keep the old files.
    ///
    /// An I/O error before a group's commit point (the rename to `.swap`) leaves the log as it was; one
    /// after it closes this object (KAFKA_STORAGE_ERROR): opening the log again completes the swap.
    ///
    /// Then `cleanerCheckpoint` becomes the end of the map (`CleaningResult.cleanedUpTo`), which the
    /// broker persists in `cleaner-offset-checkpoint`. The active segment is never touched, so the log
    /// end offset and appends are unaffected. Does nothing (an empty result) unless `config.compact`.
    @discardableResult
    public func clean(now: Int64, options: CleaningOptions = CleaningOptions()) throws(LogError) -> CleaningResult {
        try checkOpen()
        let started = clock.monotonicNanoseconds()
        let range = try cleanableRange(now: now, highWatermark: options.highWatermark)
        var result = CleaningResult(firstDirtyOffset: range.firstDirtyOffset, cleanedUpTo: range.firstDirtyOffset)
        guard config.compact else { return result }

        // 1. The offset map over the dirty segments.
        let map = OffsetMap()
        var end = range.firstDirtyOffset
        var mappedSegments = 0
        var mappedBytes: Int64 = 0
        var index = segmentIndex(for: range.firstDirtyOffset) ?? 0
        while index < segments.count - 1, segments[index + 1].baseOffset <= range.firstUncleanableOffset {
            if mappedSegments > 0 {
                let overDeadline = options.deadlineNanoseconds.map { clock.monotonicNanoseconds() >= $0 } ?? false
                if map.memoryBytes >= options.maxOffsetMapBytes || mappedBytes >= options.maxDirtyBytes || overDeadline {
                    result.complete = false
                    break
                }
            }
            try mapKeys(of: segments[index], from: range.firstDirtyOffset, into: map)
            mappedSegments += 1
            mappedBytes += Int64(segments[index].size)
            end = segments[index + 1].baseOffset
            index += 1
        }
        result.keys = map.count
        let tombstonesDue = cleanerState.earliestDeleteHorizon.map { now >= $0 } ?? false
        guard mappedSegments > 0 || tombstonesDue else {
            result.durationNanoseconds = clock.monotonicNanoseconds() - started
            return result
        }

        // 2 and 3. Rewrite the segments below the end of the map, group by group.
        var pass = CleaningPass(
            map: map, now: now, deleteRetentionMs: config.deleteRetentionMs, producerLastOffsets: options.producerLastOffsets)
        var remaining = segments.indices.dropLast().prefix { segments[$0 + 1].baseOffset <= end }.count
        var first = 0
        while remaining > 0 {
            let count = groupSize(from: first, limit: first + remaining, end: end)
            try cleanGroup(first..<first + count, pass: &pass, result: &result)
            first += 1
            remaining -= count
        }
        cleanerState.checkpoint = max(end, range.firstDirtyOffset)
        cleanerState.earliestDeleteHorizon = pass.earliestDeleteHorizon
        result.cleanedUpTo = max(end, range.firstDirtyOffset)
        result.durationNanoseconds = clock.monotonicNanoseconds() - started
        return result
    }

    /// Puts the key and offset of every keyed record at or after `firstDirty` of `segment` into `map`.
    func mapKeys(of segment: LogSegment, from firstDirty: Int64, into map: OffsetMap) throws(LogError) {
        var reader = SegmentBatchReader(file: segment.log, size: segment.size)
        while let (batch, header) = try nextBatch(&reader) {
            guard !header.attributes.isControl, header.lastOffset >= firstDirty else { continue }
            let area: ByteBuffer
            do {
                area = try Self.recordsArea(of: batch, header: header, maximumUncompressedSize: Self.maxDecompressedBatchBytes)
            } catch {
                throw .invalidRecords(error)
            }
            let failure: RecordBatchError? = area.withUnsafeReadableBytes { bytes in
                var records = RawRecordReader(bytes)
                do throws(RecordBatchError) {
                    while let record = try records.next() {
                        let offset = header.baseOffset + Int64(record.offsetDelta)
                        if record.hasKey && offset >= firstDirty { map.put(records.key(of: record), offset: offset) }
                    }
                } catch {
                    return error
                }
                return nil
            }
            if let failure { throw .invalidRecords(failure) }
        }
    }

    /// The next batch of a segment scan, validated (CRC, sizes); nil at the end. A torn or corrupt
    /// batch in a non-active segment stops the pass.
    func nextBatch(_ reader: inout SegmentBatchReader) throws(LogError) -> (ByteBuffer, RecordBatchHeader)? {
        switch try reader.next() {
        case .end:
            return nil
        case .incomplete:
            throw .invalidRecords(.truncated(needed: RecordBatchHeader.size, available: reader.size - reader.position))
        case .batch(let batch):
            do {
                return (batch, try RecordBatch.validate(batch, mode: .stored))
            } catch {
                throw .invalidRecords(error)
            }
        }
    }

    /// How many segments from `first` (before `limit`) one cleaned segment takes (Kafka's
    /// `groupSegmentsBySize`): their sizes add up to at most `segment.bytes`, their index entries fit
    /// `segment.index.bytes`, and their offsets fit an index entry relative to the first base offset.
    func groupSize(from first: Int, limit: Int, end: Int64) -> Int {
        var logSize = segments[first].size
        var indexSize = segments[first].offsetIndex.entries * OffsetIndex.entrySize
        var timeIndexSize = segments[first].timeIndex.entries * TimeIndex.entrySize
        var next = first + 1
        while next < limit {
            let candidate = segments[next]
            let lastOffset = (next + 1 < segments.count ? segments[next + 1].baseOffset : end) - 1
            guard logSize + candidate.size <= config.effectiveSegmentBytes,
                indexSize + candidate.offsetIndex.entries * OffsetIndex.entrySize <= config.maxIndexSize,
                timeIndexSize + candidate.timeIndex.entries * TimeIndex.entrySize <= config.maxIndexSize,
                candidate.size == 0 || lastOffset - segments[first].baseOffset <= Int64(Int32.max)
            else { break }
            logSize += candidate.size
            indexSize += candidate.offsetIndex.entries * OffsetIndex.entrySize
            timeIndexSize += candidate.timeIndex.entries * TimeIndex.entrySize
            next += 1
        }
        return next - first
    }

    /// Cleans `segments[group]` into one segment and puts it in their place (or leaves a single
    /// segment alone if nothing in it changes).
    func cleanGroup(_ group: Range<Int>, pass: inout CleaningPass, result: inout CleaningResult) throws(LogError) {
        let old = Array(segments[group])
        let base = old[0].baseOffset
        let now = pass.now
        let cleaned = try LogSegment.create(
            directory: directory, baseOffset: base, maxIndexSize: config.maxIndexSize, now: now, suffix: LogFileNames.cleanedSuffix)
        var changed = old.count > 1
        do {
            var writer = CleanedSegmentWriter(segment: cleaned, indexIntervalBytes: config.indexIntervalBytes)
            var lastModified: Int64 = 0
            for segment in old {
                lastModified = max(lastModified, try FileIO.modificationTime(segment.log.descriptor, path: segment.logPath))
                result.bytesRead += Int64(segment.size)
                var reader = SegmentBatchReader(file: segment.log, size: segment.size)
                while let (batch, header) = try nextBatch(&reader) {
                    switch try filter(batch, header: header, pass: &pass, result: &result) {
                    case .keep:
                        try writer.append(batch, header: header)
                    case .replace(let bytes, let replaced):
                        try writer.append(bytes, header: replaced)
                        changed = true
                    case .remove:
                        changed = true
                    }
                }
            }
            try writer.flush()
            if changed {
                try cleaned.seal()
                try cleaned.log.syncData()
                try cleaned.offsetIndex.file.sync()
                try cleaned.timeIndex.file.sync()
                try setModificationTime(cleaned.log, lastModified)
            }
            cleaned.close()
        } catch {
            cleaned.close()
            removeFiles(base: base, suffix: LogFileNames.cleanedSuffix)
            throw error
        }
        guard changed else {
            removeFiles(base: base, suffix: LogFileNames.cleanedSuffix)
            return
        }
        try cleanerState.simulateCrash(at: .cleanedWritten)
        try replace(group, withCleanedSegmentAt: base, now: now)
        result.segmentsCleaned += old.count
        result.segmentsWritten += 1
        result.bytesWritten += Int64(segments[group.lowerBound].size)
    }

    /// Kafka's `replaceSegments`: `.cleaned` -> `.swap` (then a restart completes the swap, see
    /// `LogLoader.completeInterruptedSwaps`), old segments -> `.deleted` -> removed, `.swap` -> in place.
    func replace(_ group: Range<Int>, withCleanedSegmentAt base: Int64, now: Int64) throws(LogError) {
        let cleaned = LogSegment.paths(directory: directory, baseOffset: base, suffix: LogFileNames.cleanedSuffix)
        let swap = LogSegment.paths(directory: directory, baseOffset: base, suffix: LogFileNames.swapSuffix)
        let final = LogSegment.paths(directory: directory, baseOffset: base)
        try FileIO.rename(cleaned.log, swap.log)
        try FileIO.rename(cleaned.index, swap.index)
        try FileIO.rename(cleaned.timeIndex, swap.timeIndex)
        try FileIO.syncDirectory(directory)
        // Committed: a failure from here on leaves the files for the next open to finish, and this
        // object unusable (closed), like a log directory going offline.
        do throws(LogError) {
            try cleanerState.simulateCrash(at: .swapped)
            boundaryCache = nil
            for segment in segments[group] {
                size -= Int64(segment.size)
                try segment.delete()
            }
            try cleanerState.simulateCrash(at: .oldSegmentsDeleted)
            try FileIO.rename(swap.log, final.log)
            try cleanerState.simulateCrash(at: .logInstalled)
            try FileIO.rename(swap.index, final.index)
            try FileIO.rename(swap.timeIndex, final.timeIndex)
            try FileIO.syncDirectory(directory)
            let segment = try LogSegment.open(directory: directory, baseOffset: base, now: now).segment
            segments.replaceSubrange(group, with: [segment])
            size += Int64(segment.size)
        } catch {
            for segment in segments { segment.close() }
            isClosed = true
            throw error
        }
    }

    func removeFiles(base: Int64, suffix: String) {
        let paths = LogSegment.paths(directory: directory, baseOffset: base, suffix: suffix)
        for path in [paths.log, paths.index, paths.timeIndex] { try? FileIO.unlink(path) }
    }

    func setModificationTime(_ file: SegmentFile, _ milliseconds: Int64) throws(LogError) {
        let time = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        let times = [time, time]
        guard futimens(file.descriptor, times) == 0 else { throw FileIO.fail("futimens", file.path) }
    }

    // MARK: One batch

    enum BatchOutcome {
        /// Copy the batch as it is.
        case keep
        /// Write these bytes instead (same offsets), with their header.
        case replace(ByteBuffer, RecordBatchHeader)
        case remove
    }

    /// Kafka's `MemoryRecords.filterTo` with the cleaner's `RecordFilter` for one batch.
    func filter(
        _ batch: ByteBuffer, header: RecordBatchHeader, pass: inout CleaningPass, result: inout CleaningResult
    ) throws(LogError) -> BatchOutcome {
        result.recordsRead += Int(header.recordsCount)
        // Control batches (transaction markers) stay: nothing here removes transactions.
        if header.attributes.isControl {
            result.recordsRetained += Int(header.recordsCount)
            return .keep
        }
        let horizon: Int64? = header.attributes.hasDeleteHorizonMs ? header.baseTimestamp : nil
        let removeTombstones = horizon.map { pass.now >= $0 } ?? false
        let area: ByteBuffer
        do {
            area = try Self.recordsArea(of: batch, header: header, maximumUncompressedSize: Self.maxDecompressedBatchBytes)
        } catch {
            throw .invalidRecords(error)
        }
        let map = pass.map
        let codec = header.attributes.compression ?? .none
        // Decide record by record; build the new records area only if a record goes.
        let filtered: Result<FilteredRecords, RecordBatchError> = area.withUnsafeReadableBytes { bytes in
            var records = RawRecordReader(bytes)
            var kept = FilteredRecords()
            do throws(RecordBatchError) {
                while let record = try records.next() {
                    let offset = header.baseOffset + Int64(record.offsetDelta)
                    var retain = false
                    if record.hasKey {
                        let latest = map.get(records.key(of: record)) ?? -1
                        retain = offset >= latest && !(record.valueIsNull && removeTombstones)
                        if offset >= latest && record.valueIsNull && removeTombstones { kept.tombstonesRemoved += 1 }
                    }
                    if retain {
                        kept.records.append(record)
                        if record.valueIsNull { kept.tombstones += 1 }
                    }
                }
                guard records.index == Int(header.recordsCount) else {
                    return .failure(.recordsCountMismatch(declared: header.recordsCount, found: records.index))
                }
            } catch {
                return .failure(error)
            }
            if kept.records.count == records.index && (kept.tombstones == 0 || horizon != nil) { return .success(kept) }
            kept.changed = true
            guard !kept.records.isEmpty else { return .success(kept) }
            // Rebuild: the first kept record's timestamp (or the new delete horizon) is the base.
            let newHorizon = horizon ?? (kept.tombstones > 0 ? Self.saturatingAdd(pass.now, pass.deleteRetentionMs) : nil)
            let oldBase = header.baseTimestamp
            let newBase = newHorizon ?? (oldBase + kept.records[0].timestampDelta)
            var plain = ByteBufferAllocator().buffer(capacity: bytes.count)
            var maxTimestamp = Int64.min
            for record in kept.records {
                let timestamp = oldBase + record.timestampDelta
                maxTimestamp = max(maxTimestamp, timestamp)
                let delta = timestamp - newBase
                if delta == record.timestampDelta {
                    plain.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[record.start..<record.end]))
                } else {
                    let tail = UnsafeRawBufferPointer(rebasing: bytes[record.timestampDeltaEnd..<record.end])
                    plain.writeVarint(Int32(1 + KafkaSize.varlong(delta) + tail.count))
                    plain.writeInteger(record.attributes)
                    plain.writeVarlong(delta)
                    plain.writeBytes(tail)
                }
            }
            var rebuilt = header
            rebuilt.attributes.hasDeleteHorizonMs = newHorizon != nil
            rebuilt.baseTimestamp = newBase
            if header.attributes.timestampType == .createTime { rebuilt.maxTimestamp = maxTimestamp }
            rebuilt.recordsCount = Int32(kept.records.count)
            kept.horizon = newHorizon
            kept.header = rebuilt
            kept.plain = plain
            return .success(kept)
        }
        var kept: FilteredRecords
        do {
            kept = try filtered.get()
        } catch {
            throw .invalidRecords(error)
        }
        result.tombstonesRemoved += kept.tombstonesRemoved
        result.recordsRetained += kept.records.count
        if kept.records.isEmpty {
            // Kafka's RETAIN_EMPTY for a producer's last batch, DELETE_EMPTY otherwise (an empty batch
            // kept by an earlier pass goes once its producer wrote a later one).
            if header.producerId >= 0, try isLastBatchOfProducer(header, pass: &pass) {
                if header.recordsCount == 0 { return .keep }
                result.emptyBatchesRetained += 1
                let (bytes, empty) = Self.emptyBatch(like: header)
                return .replace(bytes, empty)
            }
            result.batchesRemoved += 1
            return .remove
        }
        if !kept.changed {
            if kept.tombstones > 0, let horizon { pass.noteHorizon(horizon) }
            return .keep
        }
        if kept.tombstones > 0, let horizon = kept.horizon { pass.noteHorizon(horizon) }
        let (bytes, written) = try Self.encodeBatch(header: kept.header!, plainRecords: kept.plain!, codec: codec)
        return .replace(bytes, written)
    }

    struct FilteredRecords {
        var records: [RawRecord] = []
        var tombstones = 0
        var tombstonesRemoved = 0
        var changed = false
        var horizon: Int64?
        var header: RecordBatchHeader?
        var plain: ByteBuffer?
    }

    /// Whether `header` is the last batch of its producer in the log.
    func isLastBatchOfProducer(_ header: RecordBatchHeader, pass: inout CleaningPass) throws(LogError) -> Bool {
        if pass.producerLastOffsets == nil { pass.producerLastOffsets = try lastOffsetsByProducer() }
        return pass.producerLastOffsets?[header.producerId] == header.lastOffset
    }

    /// The last offset of the last data batch of every producer id in the log (Kafka's
    /// `lastDataOffset`; control batches are not data), from the batch headers.
    public func lastOffsetsByProducer() throws(LogError) -> [Int64: Int64] {
        try checkOpen()
        var last: [Int64: Int64] = [:]
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        for segment in segments {
            var position = 0
            var chunkStart = 0
            var chunkLength = 0
            while position + RecordBatchHeader.size <= segment.size {
                if position < chunkStart || position + RecordBatchHeader.size > chunkStart + chunkLength {
                    chunkLength = try segment.log.read(into: chunk, at: Int64(position))
                    chunkStart = position
                    guard chunkLength >= RecordBatchHeader.size else { break }
                }
                let pointer = UnsafeRawPointer(chunk.baseAddress! + (position - chunkStart))
                guard let info = LogSegment.parseHeader(pointer, position: position) else { break }
                let producerId = Int64(bigEndian: pointer.loadUnaligned(fromByteOffset: RecordBatchHeader.Offset.producerId, as: Int64.self))
                let attributes = RecordBatchAttributes(
                    rawValue: Int16(bigEndian: pointer.loadUnaligned(fromByteOffset: RecordBatchHeader.Offset.attributes, as: Int16.self)))
                if producerId >= 0 && !attributes.isControl { last[producerId] = info.lastOffset }
                position += info.size
            }
        }
        return last
    }

    /// Kafka's `DefaultRecordBatch.writeEmptyHeader`: a batch with no records that keeps the offsets,
    /// producer fields, leader epoch, timestamp type, flags and max timestamp of `header`; no codec,
    /// base timestamp -1.
    static func emptyBatch(like header: RecordBatchHeader) -> (ByteBuffer, RecordBatchHeader) {
        var empty = header
        empty.attributes = RecordBatchAttributes(
            compression: .none, timestampType: header.attributes.timestampType, isTransactional: header.attributes.isTransactional,
            isControl: header.attributes.isControl)
        empty.baseTimestamp = -1
        empty.recordsCount = 0
        var buffer = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size)
        let written = finish(&buffer, header: &empty)
        return (buffer, written)
    }

    /// A batch of `header` (offsets and producer fields as given) holding `plainRecords`, compressed
    /// with `codec`.
    static func encodeBatch(
        header: RecordBatchHeader, plainRecords: ByteBuffer, codec: CompressionCodec
    ) throws(LogError) -> (ByteBuffer, RecordBatchHeader) {
        var header = header
        var buffer = ByteBufferAllocator().buffer(capacity: RecordBatchHeader.size + plainRecords.readableBytes)
        buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
        if codec == .none {
            buffer.writeImmutableBuffer(plainRecords)
        } else {
            do {
                try RecordCompression.compress(plainRecords, codec: codec, appendingTo: &buffer)
            } catch {
                throw .invalidRecords(.compression(error))
            }
        }
        let written = finish(&buffer, header: &header)
        return (buffer, written)
    }

    /// Writes `header` over the first 61 bytes of `buffer` (appending them if absent) with the batch
    /// length and CRC of the whole buffer.
    static func finish(_ buffer: inout ByteBuffer, header: inout RecordBatchHeader) -> RecordBatchHeader {
        if buffer.readableBytes < RecordBatchHeader.size { buffer.writeRepeatingByte(0, count: RecordBatchHeader.size - buffer.readableBytes) }
        header.magic = RecordBatchHeader.currentMagic
        header.batchLength = Int32(buffer.readableBytes - RecordBatchHeader.logOverhead)
        header.crc = 0
        header.write(to: &buffer, at: buffer.readerIndex)
        header.crc = buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.Offset.attributes...]))
        }
        buffer.setInteger(header.crc, at: buffer.readerIndex + RecordBatchHeader.Offset.crc)
        return header
    }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}

/// The state of one cleaning pass.
struct CleaningPass {
    let map: OffsetMap
    let now: Int64
    let deleteRetentionMs: Int64
    var producerLastOffsets: [Int64: Int64]?
    /// The earliest delete horizon of a batch written with tombstones.
    var earliestDeleteHorizon: Int64?

    mutating func noteHorizon(_ horizon: Int64) {
        earliestDeleteHorizon = min(earliestDeleteHorizon ?? .max, horizon)
    }
}

/// Appends batches to a segment being cleaned, through a write buffer, indexing each batch as appends
/// and recovery do.
struct CleanedSegmentWriter {
    let segment: LogSegment
    let indexIntervalBytes: Int
    private var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
    static let flushBytes = 1 << 20

    init(segment: LogSegment, indexIntervalBytes: Int) {
        self.segment = segment
        self.indexIntervalBytes = indexIntervalBytes
    }

    mutating func append(_ batch: ByteBuffer, header: RecordBatchHeader) throws(LogError) {
        let position = segment.size + buffer.readableBytes
        buffer.writeImmutableBuffer(batch)
        segment.indexBatch(
            BatchInfo(position: position, size: header.batchSize, baseOffset: header.baseOffset, lastOffset: header.lastOffset,
                maxTimestamp: header.maxTimestamp, partitionLeaderEpoch: header.partitionLeaderEpoch),
            indexIntervalBytes: indexIntervalBytes)
        if buffer.readableBytes >= Self.flushBytes { try flush() }
    }

    mutating func flush() throws(LogError) {
        guard buffer.readableBytes > 0 else { return }
        let position = segment.size
        let descriptor = segment.log.descriptor
        let path = segment.logPath
        var failure: LogError?
        buffer.withUnsafeReadableBytes { bytes in
            do throws(LogError) { try FileIO.pwrite(descriptor, bytes, at: Int64(position), path: path) } catch { failure = error }
        }
        if let failure { throw failure }
        segment.didWrite(bytes: buffer.readableBytes)
        buffer.clear()
    }
}
