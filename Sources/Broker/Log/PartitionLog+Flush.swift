/// The fsyncs of one flush, prepared on the log's executor and performed anywhere (NIO's thread pool):
/// fsync can take milliseconds and must not stall an event loop. It holds its files open, so the log
/// may roll, delete or truncate segments meanwhile.
public struct FlushRequest: Sendable {
    /// The log end offset when prepared: the recovery point once performed.
    public let upToOffset: Int64
    let files: [SegmentFile]
    let directory: String?
    let generation: Int

    /// fsyncs the files (and the directory if segments were created). Thread-safe.
    public func perform() throws(LogError) {
        for file in files { try file.syncData() }
        if let directory { try FileIO.syncDirectory(directory) }
    }
}

extension PartitionLog {
    /// Kafka's flush policy: true once `log.flush.interval.messages` offsets are unflushed, once
    /// `log.flush.interval.ms` passed since the last flush with anything unflushed, or when a rolled
    /// segment is not fsynced yet (Kafka flushes a segment when it rolls).
    public func needsFlush(now: Int64) -> Bool {
        let unflushed = logEndOffset - recoveryPoint
        guard unflushed > 0 else { return false }
        if unflushed >= config.flushIntervalMessages { return true }
        if let interval = config.flushIntervalMs, now - lastFlushTime >= interval { return true }
        return recoveryPoint < activeSegment.baseOffset
    }

    /// The fsyncs bringing the recovery point to the log end offset: every segment holding offsets at
    /// or above the recovery point (`.log`, `.index`, `.timeindex`), and the directory if segments were
    /// created. Nil if there is nothing to flush.
    public func prepareFlush() -> FlushRequest? {
        guard !isClosed, logEndOffset > recoveryPoint || directoryNeedsSync else { return nil }
        let first = segmentIndex(for: recoveryPoint) ?? 0
        var files: [SegmentFile] = []
        files.reserveCapacity(3 * (segments.count - first))
        for segment in segments[first...] {
            files.append(segment.log)
            files.append(segment.offsetIndex.file.file)
            files.append(segment.timeIndex.file.file)
        }
        let request = FlushRequest(
            upToOffset: logEndOffset, files: files, directory: directoryNeedsSync ? directory : nil, generation: generation)
        directoryNeedsSync = false
        return request
    }

    /// Advances the recovery point after `request` was performed (ignored if the log was truncated
    /// since it was prepared).
    public func completeFlush(_ request: FlushRequest, now: Int64) {
        lastFlushTime = now
        guard request.generation == generation else {
            if request.directory != nil { directoryNeedsSync = true }
            return
        }
        recoveryPoint = max(recoveryPoint, min(request.upToOffset, logEndOffset))
    }

    /// Flushes synchronously on the caller's thread: `prepareFlush`, `perform`, `completeFlush`.
    /// `now` (for `log.flush.interval.ms`) defaults to the log's clock.
    public func flush(now: Int64? = nil) throws(LogError) {
        try checkOpen()
        let now = now ?? clock.milliseconds()
        guard let request = prepareFlush() else {
            lastFlushTime = now
            return
        }
        do {
            try request.perform()
        } catch {
            if request.directory != nil { directoryNeedsSync = true }
            throw error
        }
        completeFlush(request, now: now)
    }
}
