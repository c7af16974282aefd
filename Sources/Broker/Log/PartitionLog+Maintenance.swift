import MartletProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PartitionLog {
    // MARK: Truncation (followers)

    /// Removes every batch from `offset` on: whole later segments, then the tail of the segment holding
    /// `offset`, with their index entries and leader epoch entries. A batch that contains `offset` goes
    /// whole, so the log end offset becomes that batch's base offset (truncation points are batch
    /// boundaries in practice: epoch starts, high watermarks). Truncating to at or below the first
    /// segment's base offset empties the log and restarts it at `offset` (Kafka's
    /// `truncateFullyAndStartAt`). No-op at or above the log end offset.
    public func truncate(to offset: Int64) throws(LogError) {
        try checkOpen()
        guard offset < logEndOffset else { return }
        generation += 1
        boundaryCache = nil
        if offset <= segments[0].baseOffset {
            try truncateFully(startingAt: max(offset, 0))
            return
        }
        while let last = segments.last, last.baseOffset >= offset {
            try last.delete()
            size -= Int64(last.size)
            segments.removeLast()
        }
        let segment = activeSegment
        var newEnd = offset
        if let batch = try segment.locate(offset: offset, scratch: scratch) {
            newEnd = batch.baseOffset
            size -= Int64(segment.size - batch.position)
            try segment.truncate(toPosition: batch.position, nextOffset: newEnd, scratch: scratch)
        }
        try segment.preallocateIndexes(maxIndexSize: config.maxIndexSize)
        logEndOffset = newEnd
        logStartOffset = min(logStartOffset, logEndOffset)
        recoveryPoint = min(recoveryPoint, logEndOffset)
        cleanerState.truncate(to: logEndOffset)
        try epochCache.truncateFromEnd(logEndOffset)
    }

    /// Deletes every segment and starts an empty one at `offset`, which becomes the log start offset.
    func truncateFully(startingAt offset: Int64) throws(LogError) {
        let now = clock.milliseconds()
        for segment in segments.reversed() { try segment.delete() }
        segments = [try LogSegment.create(directory: directory, baseOffset: offset, maxIndexSize: config.maxIndexSize, now: now)]
        directoryNeedsSync = true
        size = 0
        logStartOffset = offset
        logEndOffset = offset
        recoveryPoint = offset
        cleanerState.truncate(to: offset)
        try epochCache.clear()
    }

    // MARK: Deletion of old data

    /// DeleteRecords: raises the log start offset to `offset` and deletes the segments wholly below it
    /// (never the active one). The caller checks `offset` against the high watermark; here it must not
    /// exceed the log end offset (OFFSET_OUT_OF_RANGE). A lower offset than the current start changes
    /// nothing.
    @discardableResult
    public func deleteRecords(before offset: Int64) throws(LogError) -> DeletedSegments {
        try checkOpen()
        guard offset <= logEndOffset, offset >= 0 else {
            throw .offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        var deleted = DeletedSegments()
        if offset > logStartOffset {
            logStartOffset = offset
            try epochCache.truncateFromStart(logStartOffset)
        }
        while segments.count > 1 && segments[1].baseOffset <= logStartOffset {
            try deleteOldestSegment(into: &deleted)
            deleted.byLogStartOffset += 1
        }
        deleted.logStartOffset = logStartOffset
        return deleted
    }

    /// Retention, oldest segments first and never the active one, in Kafka's order:
    /// `log.retention.ms` (the segment's largest record timestamp, or its file's modification time, is
    /// older than that), then `log.retention.bytes` (while the log minus the segment is still at least
    /// that large), then segments wholly below the log start offset. The first two only apply when
    /// `cleanup.policy` has `delete` (`config.delete`). With `highWatermark`, only
    /// segments wholly below it are deleted. Deleted segments are renamed to `.deleted`, then removed;
    /// reads in flight keep their open files.
    @discardableResult
    public func applyRetention(now: Int64, highWatermark: Int64? = nil) throws(LogError) -> DeletedSegments {
        try checkOpen()
        var deleted = DeletedSegments()
        func deletable() -> Bool {
            guard segments.count > 1 else { return false }
            guard let highWatermark else { return true }
            return segments[1].baseOffset <= highWatermark
        }
        if config.delete && config.retentionMs >= 0 {
            while deletable(), now - (try segments[0].largestTimestamp()) > config.retentionMs {
                try deleteOldestSegment(into: &deleted)
                deleted.byTime += 1
            }
        }
        if config.delete && config.retentionBytes >= 0 {
            var excess = size - config.retentionBytes
            while deletable(), excess - Int64(segments[0].size) >= 0 {
                excess -= Int64(segments[0].size)
                try deleteOldestSegment(into: &deleted)
                deleted.bySize += 1
            }
        }
        while deletable(), segments[1].baseOffset <= logStartOffset {
            try deleteOldestSegment(into: &deleted)
            deleted.byLogStartOffset += 1
        }
        deleted.logStartOffset = logStartOffset
        return deleted
    }

    /// Deletes `segments[0]` and moves the log start offset to the next segment if it was inside it.
    func deleteOldestSegment(into deleted: inout DeletedSegments) throws(LogError) {
        let segment = segments.removeFirst()
        boundaryCache = nil
        deleted.baseOffsets.append(segment.baseOffset)
        deleted.bytes += Int64(segment.size)
        size -= Int64(segment.size)
        try segment.delete()
        if logStartOffset < segments[0].baseOffset {
            logStartOffset = segments[0].baseOffset
            try epochCache.truncateFromStart(logStartOffset)
        }
    }

    // MARK: Closing and deleting

    /// Closes the log after a final flush: the active segment is sealed (final time index entry,
    /// indexes trimmed to their entries, as Kafka leaves them), everything is fsynced, and
    /// `recoveryPoint` reaches the log end offset. Write it to `recovery-point-offset-checkpoint` and
    /// open with `hadCleanShutdown: true` to skip recovery. Reads still in flight stay valid.
    public func close() throws(LogError) {
        guard !isClosed else { return }
        try activeSegment.seal()
        try flush(now: lastFlushTime)
        try activeSegment.offsetIndex.file.sync()  // the trims above, even when no data was pending
        try activeSegment.timeIndex.file.sync()
        for segment in segments { segment.close() }
        isClosed = true
    }

    /// Deletes the partition's directory (topic deletion): closes the log, renames the directory to
    /// `<topic>-<partition>.<random hex>-delete` (Kafka's marker, so a crash mid-way finishes the job
    /// on restart), then removes its files.
    public func deleteAll() throws(LogError) {
        if !isClosed {
            for segment in segments { segment.close() }
            isClosed = true
        }
        segments.removeAll()
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() as UInt64, radix: 16)
        let doomed = directory + "." + suffix + LogFileNames.deleteDirectorySuffix
        try FileIO.rename(directory, doomed)
        try FileIO.syncDirectory(FileIO.parent(of: directory))
        for name in try FileIO.list(doomed) { try FileIO.unlink(FileIO.join(doomed, name)) }
        try FileIO.removeDirectory(doomed)
    }
}
