import MartletProtocol
import NIOCore

extension PartitionLog {
    /// Bound on a batch's decompressed records when timestamps must be read record by record.
    static let maxDecompressedBatchBytes = 256 << 20

    /// Reads whole batches from `offset` (Fetch).
    ///
    /// The first batch is the whole batch containing `offset`, found with the offset index and a short
    /// header scan; clients skip its earlier records. Batches follow in log order, across segments,
    /// while they fit in `maxBytes`; only whole batches are returned (the cut is found with the offset
    /// index too, so it costs one short scan). If the first batch alone exceeds `maxBytes` it is
    /// returned anyway when `minOneBatch` (Kafka's KIP-74 rule for the first partition of a response),
    /// else nothing. Nothing at or past `maxOffset` (the high watermark) is returned: a batch whose
    /// last offset reaches it is left out whole.
    ///
    /// `offset` equal to the log end offset gives an empty result; below the log start offset or above
    /// the log end offset, OFFSET_OUT_OF_RANGE.
    public func read(from offset: Int64, maxBytes: Int, upTo maxOffset: Int64? = nil, minOneBatch: Bool = true) throws(LogError) -> LogReadResult {
        try checkOpen()
        guard offset >= logStartOffset, offset <= logEndOffset else {
            throw .offsetOutOfRange(offset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        }
        var result = LogReadResult(
            slices: [], size: 0, firstBatchBaseOffset: nil, nextOffset: offset, logStartOffset: logStartOffset, logEndOffset: logEndOffset)
        let limit = min(maxOffset ?? logEndOffset, logEndOffset)
        guard offset < limit, var segment = segmentIndex(for: offset) else { return result }

        var first: BatchInfo?
        while segment < segments.count {
            if let batch = try segments[segment].locate(offset: offset, scratch: scratch) {
                first = batch
                break
            }
            segment += 1
        }
        guard let first, first.lastOffset < limit else { return result }
        result.firstBatchBaseOffset = first.baseOffset
        if first.size > maxBytes {
            guard minOneBatch else {
                result.firstBatchBaseOffset = nil
                return result
            }
            result.slices = [LogReadResult.Slice(file: segments[segment].log, position: Int64(first.position), length: first.size)]
            result.size = first.size
            result.nextOffset = first.nextOffset
            return result
        }

        let end = try readBoundary(for: limit)
        result.slices.reserveCapacity(end.segment - segment + 1)
        var position = first.position
        while true {
            let current = segments[segment]
            let segmentEnd = segment == end.segment ? end.position : current.size
            let available = segmentEnd - position
            if available > 0 {
                if result.size + available <= maxBytes {
                    result.slices.append(LogReadResult.Slice(file: current.log, position: Int64(position), length: available))
                    result.size += available
                    result.nextOffset = segment == end.segment
                        ? end.nextOffset : (segment + 1 < segments.count ? segments[segment + 1].baseOffset : logEndOffset)
                } else {
                    var nextOffset = result.nextOffset
                    let boundary = try current.lastBatchBoundary(
                        from: position, notAfter: position + maxBytes - result.size, scratch: scratch, nextOffset: &nextOffset)
                    if boundary > position {
                        result.slices.append(LogReadResult.Slice(file: current.log, position: Int64(position), length: boundary - position))
                        result.size += boundary - position
                        result.nextOffset = nextOffset
                    }
                    break
                }
            }
            if segment >= end.segment { break }
            segment += 1
            position = 0
        }
        return result
    }

    /// Where data below `limit` ends: the segment, the position of the first batch whose last offset
    /// reaches `limit`, and that batch's base offset (where a later read continues). Cached for the
    /// last limit, since the high watermark moves less often than consumers fetch.
    func readBoundary(for limit: Int64) throws(LogError) -> (segment: Int, position: Int, nextOffset: Int64) {
        let last = segments.count - 1
        if limit >= logEndOffset { return (last, activeSegment.size, logEndOffset) }
        if let cached = boundaryCache, cached.limit == limit, let index = segmentIndex(for: cached.segmentBase),
            segments[index].baseOffset == cached.segmentBase
        {
            return (index, cached.position, cached.nextOffset)
        }
        let index = segmentIndex(for: limit) ?? 0
        let boundary: (segment: Int, position: Int, nextOffset: Int64)
        if let batch = try segments[index].locate(offset: limit, scratch: scratch) {
            boundary = (index, batch.position, batch.baseOffset)
        } else if index < last {
            boundary = (index + 1, 0, segments[index + 1].baseOffset)
        } else {
            boundary = (index, segments[index].size, logEndOffset)
        }
        boundaryCache = (limit, segments[boundary.segment].baseOffset, boundary.position, boundary.nextOffset)
        return boundary
    }

    /// ListOffsets by timestamp: the first offset at or after the log start whose record timestamp is
    /// >= `timestamp`, with that timestamp and its batch's leader epoch; nil if every record is older.
    ///
    /// Finds the first segment whose largest timestamp reaches the target, starts from its time index
    /// entry (largest timestamp <= target) mapped through the offset index, skips batches whose max
    /// timestamp is below the target, and decodes the first batch that reaches it.
    public func offset(forTimestamp timestamp: Int64) throws(LogError) -> TimestampAndOffset? {
        try checkOpen()
        for segment in segments where segment.maxTimestampSoFar >= timestamp {
            let entry = segment.timeIndex.lookup(timestamp)
            var position = segment.offsetIndex.lookup(max(entry.offset, logStartOffset)).position
            while true {
                var candidate: BatchInfo?
                _ = try segment.forEachBatch(from: position, scratch: scratch) { batch in
                    if batch.lastOffset >= logStartOffset && batch.maxTimestamp >= timestamp {
                        candidate = batch
                        return false
                    }
                    return true
                }
                guard let batch = candidate else { break }
                if let found = try firstRecord(in: segment, batch: batch, where: { $1 >= logStartOffset && $0 >= timestamp }) {
                    return found
                }
                position = batch.end
            }
        }
        return nil
    }

    /// ListOffsets MAX_TIMESTAMP: the record with the largest timestamp (the first one, if several),
    /// with its offset and its batch's leader epoch; nil if no record has a timestamp.
    public func latestTimestampOffset() throws(LogError) -> TimestampAndOffset? {
        try checkOpen()
        guard let maxTimestamp = segments.map(\.maxTimestampSoFar).max(), maxTimestamp >= 0,
            let segment = segments.first(where: { $0.maxTimestampSoFar == maxTimestamp }),
            let batch = try segment.locate(offset: segment.offsetOfMaxTimestampSoFar, scratch: scratch)
        else { return nil }
        if let found = try firstRecord(in: segment, batch: batch, where: { timestamp, _ in timestamp == maxTimestamp }) {
            return found
        }
        return TimestampAndOffset(
            timestamp: batch.maxTimestamp, offset: batch.lastOffset, leaderEpoch: batch.partitionLeaderEpoch >= 0 ? batch.partitionLeaderEpoch : nil)
    }

    /// Decodes `batch` and returns its first record matching `predicate(timestamp, offset)`.
    func firstRecord(
        in segment: LogSegment, batch: BatchInfo, where predicate: (Int64, Int64) -> Bool
    ) throws(LogError) -> TimestampAndOffset? {
        let bytes = try segment.readBatch(batch)
        let decoded: RecordBatch
        do {
            decoded = try RecordBatch.decode(bytes, maximumUncompressedSize: Self.maxDecompressedBatchBytes)
        } catch {
            throw .invalidRecords(error)
        }
        let epoch = decoded.header.partitionLeaderEpoch
        for record in decoded.records {
            let timestamp = decoded.timestamp(of: record)
            let offset = decoded.offset(of: record)
            if predicate(timestamp, offset) {
                return TimestampAndOffset(timestamp: timestamp, offset: offset, leaderEpoch: epoch >= 0 ? epoch : nil)
            }
        }
        return nil
    }
}
