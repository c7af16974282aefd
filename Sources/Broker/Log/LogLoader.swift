import MartletProtocol
import NIOCore

extension PartitionLog {
    /// Opens (creating if needed) the log of `topic`-`partition` in `directory`, the partition
    /// directory (Kafka's `<log.dir>/<topic>-<partition>`; `TopicPartition.directoryName`).
    ///
    /// Loading, as Kafka's `LogLoader` does:
    /// - completes a segment replacement of the log cleaner interrupted by a crash (a `.log.swap` file
    ///   replaces the segments it was cleaned from);
    /// - removes leftovers: `.deleted`, `.cleaned`, other `.swap` and `.tmp` files, and index files
    ///   without a `.log`;
    /// - after a clean shutdown (`hadCleanShutdown`, which the broker knows from its own marker file),
    ///   trusts the files: it only checks each segment's indexes and rebuilds inconsistent ones;
    /// - otherwise recovers from `recoveryPoint` (from `recovery-point-offset-checkpoint`): every
    ///   segment from the one holding it is scanned batch by batch with
    ///   `RecordBatch.validate(_:mode: .stored)` (CRC, sizes) and increasing offsets, its indexes and
    ///   leader epochs rebuilt; the first invalid batch and everything after it, including later
    ///   segments, are removed (a torn or corrupt tail);
    /// - sets the log start offset to the larger of `logStartOffset` (from
    ///   `log-start-offset-checkpoint`) and the first segment's base offset; if that is past the end,
    ///   the log restarts empty there;
    /// - checks `partition.metadata` against `topicId` (INCONSISTENT_TOPIC_ID) or writes it.
    ///
    /// What it did is in `recoveryReport`.
    public static func open(
        directory: String, topic: String, partition: Int32, config: LogConfig = LogConfig(),
        recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0, hadCleanShutdown: Bool = false,
        topicId: KafkaUUID? = nil, clock: some LogClock = SystemLogClock()
    ) throws(LogError) -> PartitionLog {
        let started = clock.monotonicNanoseconds()
        let now = clock.milliseconds()
        try FileIO.makeDirectories(directory)

        let metadata = PartitionMetadataFile(partitionDirectory: directory)
        var knownTopicId = try metadata.read()
        if let topicId {
            if let knownTopicId, knownTopicId != topicId { throw .inconsistentTopicId(expected: topicId, found: knownTopicId) }
            if knownTopicId == nil { try metadata.write(topicId: topicId) }
            knownTopicId = topicId
        }

        var loader = LogLoader(
            directory: directory, config: config, now: now, hadCleanShutdown: hadCleanShutdown,
            recoveryPoint: recoveryPoint, epochCache: try LeaderEpochCache(path: FileIO.join(directory, LogFileNames.leaderEpochCheckpoint)))
        try loader.load(logStartOffset: logStartOffset)
        loader.report.durationNanoseconds = clock.monotonicNanoseconds() - started
        let log = PartitionLog(
            topic: topic, partition: partition, directory: directory, config: config, segments: loader.segments,
            epochCache: loader.epochCache, logStartOffset: loader.logStartOffset, logEndOffset: loader.logEndOffset,
            recoveryPoint: loader.recoveryPoint, report: loader.report, clock: clock, now: now)
        log.topicId = knownTopicId
        log.directoryNeedsSync = loader.createdSegment
        return log
    }
}

/// Finds, checks and recovers the segments of one partition directory (see `PartitionLog.open`).
struct LogLoader {
    let directory: String
    let config: LogConfig
    let now: Int64
    let hadCleanShutdown: Bool
    var recoveryPoint: Int64
    let epochCache: LeaderEpochCache
    let scratch = ScratchBuffer(capacity: 16 * 1024)
    var report = RecoveryReport()
    var segments: [LogSegment] = []
    var logStartOffset: Int64 = 0
    var logEndOffset: Int64 = 0
    /// A segment file was created: the directory must be fsynced by the first flush.
    var createdSegment = false
    /// Leader epochs were assigned from scanned batches without writing the checkpoint yet.
    var epochsChanged = false

    init(directory: String, config: LogConfig, now: Int64, hadCleanShutdown: Bool, recoveryPoint: Int64, epochCache: LeaderEpochCache) {
        self.directory = directory
        self.config = config
        self.now = now
        self.hadCleanShutdown = hadCleanShutdown
        self.recoveryPoint = recoveryPoint
        self.epochCache = epochCache
    }

    mutating func load(logStartOffset requestedStart: Int64) throws(LogError) {
        report.hadCleanShutdown = hadCleanShutdown
        report.recoveryPoint = recoveryPoint
        let bases = try removeStrayFiles()
        var missingIndexes: Set<Int64> = []
        for base in bases {
            let opened = try LogSegment.open(directory: directory, baseOffset: base, now: now)
            segments.append(opened.segment)
            if opened.indexesMissing { missingIndexes.insert(base) }
        }
        report.segmentsLoaded = segments.count

        // Segments from the one holding the recovery point are scanned after an unclean shutdown.
        let firstUnflushed = hadCleanShutdown ? segments.count : (segments.lastIndex { $0.baseOffset <= recoveryPoint } ?? 0)
        var index = 0
        var previousEnd: Int64 = -1
        while index < segments.count {
            let segment = segments[index]
            let nextBase = index + 1 < segments.count ? segments[index + 1].baseOffset : nil
            if index >= firstUnflushed {
                report.segmentsRecovered += 1
                let outcome = try recover(segment, after: previousEnd, nextSegmentBaseOffset: nextBase)
                if let corruption = outcome.corruption {
                    report.corruption = corruption
                    try deleteSegments(after: index)
                }
                previousEnd = outcome.nextOffset ?? previousEnd
            } else {
                let consistent = !missingIndexes.contains(segment.baseOffset)
                    && segment.offsetIndex.isConsistent(logSize: segment.size, nextSegmentBaseOffset: nextBase)
                    && segment.timeIndex.isConsistent(nextSegmentBaseOffset: nextBase)
                var end: Int64?
                if consistent && nextBase == nil {
                    end = try activeSegmentEnd(segment)
                }
                if !consistent || (nextBase == nil && end == nil) {
                    // Kafka's `recoverSegment` for a bad index: a full scan, cutting invalid bytes off
                    // this segment only (the data after the recovery point was fsynced).
                    report.indexesRebuilt += 1
                    let outcome = try recover(segment, after: previousEnd, nextSegmentBaseOffset: nextBase)
                    if let corruption = outcome.corruption { report.corruption = corruption }
                    end = outcome.nextOffset
                }
                previousEnd = end ?? max(previousEnd, segment.baseOffset)
            }
            index += 1
        }

        if segments.isEmpty {
            createdSegment = true
            segments.append(try LogSegment.create(directory: directory, baseOffset: max(requestedStart, 0), maxIndexSize: config.maxIndexSize, now: now))
        }
        let active = segments[segments.count - 1]
        logEndOffset = max(previousEnd, active.baseOffset)
        logStartOffset = max(requestedStart, segments[0].baseOffset)
        if logStartOffset > logEndOffset {
            // Everything is below the log start offset: start over there (Kafka does the same).
            try deleteSegments(after: -1)
            createdSegment = true
            segments = [try LogSegment.create(directory: directory, baseOffset: logStartOffset, maxIndexSize: config.maxIndexSize, now: now)]
            logEndOffset = logStartOffset
            try epochCache.clear()
            epochsChanged = false
        }
        for segment in segments.dropLast() { try segment.seal() }
        try segments[segments.count - 1].preallocateIndexes(maxIndexSize: config.maxIndexSize)
        if let first = try segments[segments.count - 1].batchStarting(at: 0, scratch: scratch) {
            segments[segments.count - 1].rollingBasedTimestamp = first.maxTimestamp
        }

        if epochsChanged { try epochCache.persist() }
        try epochCache.truncateFromEnd(logEndOffset)
        try epochCache.truncateFromStart(logStartOffset)
        recoveryPoint = hadCleanShutdown ? logEndOffset : min(recoveryPoint, logEndOffset)
    }

    /// Lists the directory: completes interrupted segment swaps, removes leftovers and returns the
    /// base offsets of the `.log` files.
    mutating func removeStrayFiles() throws(LogError) -> [Int64] {
        try completeInterruptedSwaps()
        let names = try FileIO.list(directory)
        var logs: Set<Int64> = []
        for name in names {
            if let base = LogFileNames.baseOffset(of: name, suffix: LogFileNames.logSuffix) { logs.insert(base) }
        }
        let stray = [LogFileNames.deletedSuffix, LogFileNames.cleanedSuffix, LogFileNames.swapSuffix, LogFileNames.temporarySuffix]
        for name in names {
            let orphanIndex = [LogFileNames.indexSuffix, LogFileNames.timeIndexSuffix].contains { suffix in
                LogFileNames.baseOffset(of: name, suffix: suffix).map { !logs.contains($0) } ?? false
            }
            if orphanIndex || stray.contains(where: { name.hasSuffix($0) }) {
                try FileIO.unlink(FileIO.join(directory, name))
                report.strayFilesRemoved.append(name)
            }
        }
        return logs.sorted()
    }

    /// Kafka's recovery of a crash in the middle of the log cleaner's segment replacement (see
    /// `PartitionLog.clean`): a `<base>.log.swap` is a complete, fsynced cleaned segment that replaces
    /// the segments it was made from. Those are the segments with a base offset in [base, the offset
    /// after its last batch) (Kafka's `LogLoader` second pass); their files are deleted (at least the
    /// ones named `base`, which the swap replaces) and the swap is renamed into place. Index `.swap`
    /// files are deleted, so the indexes are rebuilt; `.cleaned` files (an unfinished cleaning) are
    /// removed with the other leftovers.
    mutating func completeInterruptedSwaps() throws(LogError) {
        let names = try FileIO.list(directory)
        let swapSuffix = LogFileNames.logSuffix + LogFileNames.swapSuffix
        for name in names.sorted() {
            guard let base = LogFileNames.baseOffset(of: name, suffix: swapSuffix) else { continue }
            let path = FileIO.join(directory, name)
            let file = try SegmentFile.open(path, create: false)
            var reader = SegmentBatchReader(file: file, size: try file.size())
            var next = base
            while case .batch(let batch) = try reader.next() {
                guard let header = try? RecordBatchHeader(from: batch) else { break }
                next = max(next, header.nextOffset)
            }
            let end = max(next, base + 1)
            let replaced = [LogFileNames.logSuffix, LogFileNames.indexSuffix, LogFileNames.timeIndexSuffix]
            for other in names {
                for suffix in replaced {
                    if let offset = LogFileNames.baseOffset(of: other, suffix: suffix), offset >= base, offset < end {
                        try FileIO.unlink(FileIO.join(directory, other))
                        report.strayFilesRemoved.append(other)
                    }
                }
            }
            try FileIO.rename(path, FileIO.join(directory, LogFileNames.segmentPrefix(base) + LogFileNames.logSuffix))
            report.swapsCompleted += 1
        }
        if report.swapsCompleted > 0 {
            for name in names where name.hasSuffix(LogFileNames.swapSuffix) && !name.hasSuffix(swapSuffix) {
                try FileIO.unlink(FileIO.join(directory, name))
                report.strayFilesRemoved.append(name)
            }
            try FileIO.syncDirectory(directory)
        }
    }

    /// Validates every batch of `segment`, rebuilding its indexes and the leader epochs, and cuts the
    /// file at the first batch that is invalid, torn, or whose offsets do not increase (past
    /// `previousEnd`) or leave the segment. Returns the offset after its last valid batch (nil if none)
    /// and why it stopped early.
    mutating func recover(
        _ segment: LogSegment, after previousEnd: Int64, nextSegmentBaseOffset: Int64?
    ) throws(LogError) -> (nextOffset: Int64?, corruption: String?) {
        segment.resetIndexes()
        // Room for every entry the scan adds; non-active segments are trimmed again afterwards.
        try segment.preallocateIndexes(maxIndexSize: config.maxIndexSize)
        var reader = SegmentBatchReader(file: segment.log, size: segment.size)
        var position = 0
        var nextOffset: Int64?
        var corruption: String?
        var minimumOffset = max(previousEnd, segment.baseOffset)
        scan: while true {
            let batch: ByteBuffer
            switch try reader.next() {
            case .end: break scan
            case .incomplete(let reason):
                corruption = reason
                break scan
            case .batch(let bytes): batch = bytes
            }
            let header: RecordBatchHeader
            do {
                header = try RecordBatch.validate(batch, mode: .stored)
            } catch {
                corruption = "\(error)"
                break scan
            }
            guard header.baseOffset >= minimumOffset, header.lastOffset - segment.baseOffset <= Int64(Int32.max),
                nextSegmentBaseOffset.map({ header.lastOffset < $0 }) ?? true
            else {
                corruption = "batch at offset \(header.baseOffset) is out of order (expected at least \(minimumOffset))"
                break scan
            }
            segment.indexBatch(
                BatchInfo(position: position, size: header.batchSize, baseOffset: header.baseOffset, lastOffset: header.lastOffset,
                    maxTimestamp: header.maxTimestamp, partitionLeaderEpoch: header.partitionLeaderEpoch),
                indexIntervalBytes: config.indexIntervalBytes)
            let epoch = header.partitionLeaderEpoch
            if epoch >= 0 && epoch > (epochCache.latestEpoch ?? -1) {
                try epochCache.assign(epoch: epoch, startOffset: header.baseOffset, persist: false)
                epochsChanged = true
            }
            position += header.batchSize
            minimumOffset = header.nextOffset
            nextOffset = header.nextOffset
            report.batchesScanned += 1
        }
        report.bytesScanned += Int64(position)
        if let corruption {
            report.bytesTruncated += Int64(segment.size - position)
            try segment.truncateForRecovery(toPosition: position)
            return (nextOffset, "segment \(segment.baseOffset), position \(position): \(corruption)")
        }
        return (nextOffset, nil)
    }

    /// The offset after the last batch of the active segment, from its last index entry and a scan of
    /// the headers after it; nil if the tail is not whole batches (then the segment is recovered).
    func activeSegmentEnd(_ segment: LogSegment) throws(LogError) -> Int64? {
        var end: Int64 = segment.baseOffset
        let scan = try segment.forEachBatch(from: segment.offsetIndex.lastEntry?.position ?? 0, scratch: scratch) { batch in
            end = batch.nextOffset
            return true
        }
        return scan == .end ? end : nil
    }

    /// Deletes the segments after `index` (all of them for -1), counting their bytes as truncated.
    mutating func deleteSegments(after index: Int) throws(LogError) {
        while segments.count > index + 1 {
            let segment = segments.removeLast()
            report.bytesTruncated += Int64(segment.size)
            report.segmentsDeleted += 1
            try segment.delete()
        }
    }
}
