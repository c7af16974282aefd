import NIOCore

/// A decoded v2 record batch: its header and its records.
///
/// The broker's hot path does not need this type: it checks batches in place with `validate` and
/// rewrites offsets with `assign(baseOffset:partitionLeaderEpoch:in:at:)`. Decoding is for compressed-batch
/// checks, compaction, coordinators and tests. Record keys and values are slices of the input (or of the
/// decompressed records area), never copies.
public struct RecordBatch: Hashable, Sendable {
    public var header: RecordBatchHeader
    public var records: [Record]

    @inlinable
    public init(header: RecordBatchHeader, records: [Record]) {
        self.header = header
        self.records = records
    }

    /// Absolute offset of `record` in this batch.
    @inlinable
    public func offset(of record: Record) -> Int64 { header.baseOffset + Int64(record.offsetDelta) }

    /// Absolute timestamp of `record`: for LogAppendTime the batch's `maxTimestamp`, as Kafka reports it.
    @inlinable
    public func timestamp(of record: Record) -> Int64 {
        header.attributes.timestampType == .logAppendTime
            ? header.maxTimestamp : header.baseTimestamp + record.timestampDelta
    }

    /// Decodes the batch at `buffer`'s reader index and moves past it.
    ///
    /// Checks magic 2, `batchLength`, the CRC over [21, end) and the codec, decompresses the records area
    /// into at most `maximumUncompressedSize` bytes, and parses exactly `recordsCount` records with no
    /// bytes left over. The counts rules are those of stored batches (`ValidationMode.stored`). On error
    /// the reader index does not move.
    public static func decode(
        from buffer: inout ByteBuffer, maximumUncompressedSize: Int, allocator: ByteBufferAllocator = .init()
    ) throws(RecordBatchError) -> RecordBatch {
        let header = try RecordBatchHeader(from: buffer)
        guard header.batchLength >= RecordBatchHeader.minimumBatchLength else { throw .invalidBatchLength(header.batchLength) }
        guard let batch = buffer.getSlice(at: buffer.readerIndex, length: header.batchSize) else {
            throw .truncated(needed: header.batchSize, available: buffer.readableBytes)
        }
        let decoded = try decode(batch, maximumUncompressedSize: maximumUncompressedSize, allocator: allocator)
        buffer.moveReaderIndex(forwardBy: header.batchSize)
        return decoded
    }

    /// Decodes `batch`, whose readable bytes must be exactly one batch; see `decode(from:...)`.
    public static func decode(
        _ batch: ByteBuffer, maximumUncompressedSize: Int, allocator: ByteBufferAllocator = .init()
    ) throws(RecordBatchError) -> RecordBatch {
        let header = try validate(batch, mode: .stored)
        let records = try decodeRecords(
            of: batch, header: header, maximumUncompressedSize: maximumUncompressedSize, allocator: allocator)
        return RecordBatch(header: header, records: records)
    }

    /// The records of `batch`, which has passed `validate` (yielding `header`): the CRC is not checked
    /// again. Decompresses into at most `maximumUncompressedSize` bytes and parses exactly
    /// `header.recordsCount` records.
    public static func decodeRecords(
        of batch: ByteBuffer, header: RecordBatchHeader, maximumUncompressedSize: Int,
        allocator: ByteBufferAllocator = .init()
    ) throws(RecordBatchError) -> [Record] {
        guard let codec = header.attributes.compression else {
            throw .unsupportedCompression(header.attributes.compressionID)
        }
        guard header.batchSize <= batch.readableBytes else {
            throw .truncated(needed: header.batchSize, available: batch.readableBytes)
        }
        var area = batch.getSlice(
            at: batch.readerIndex + RecordBatchHeader.size, length: header.batchSize - RecordBatchHeader.size)!
        if codec != .none {
            do {
                area = try RecordCompression.decompress(
                    area, codec: codec, maximumSize: maximumUncompressedSize, allocator: allocator)
            } catch {
                throw .compression(error)
            }
        }
        return try parseRecords(&area, declared: header.recordsCount)
    }

    /// Parses exactly `declared` records from `area`, which must then be used up.
    static func parseRecords(_ area: inout ByteBuffer, declared: Int32) throws(RecordBatchError) -> [Record] {
        guard declared >= 0 else { throw .invalidRecordsCount(declared) }
        let count = Int(declared)
        var records: [Record] = []
        records.reserveCapacity(min(count, area.readableBytes / Record.minimumEncodedSize))
        for index in 0..<count {
            guard area.readableBytes > 0 else { throw .recordsCountMismatch(declared: declared, found: index) }
            do {
                records.append(try Record.read(from: &area))
            } catch {
                throw .malformedRecord(index: index, error)
            }
        }
        if area.readableBytes > 0 {
            // Tell a wrong recordsCount (more whole records follow) from garbage.
            var rest = area
            var extra = 0
            while rest.readableBytes > 0 {
                var attempt = rest  // a failed read may have consumed bytes
                guard (try? Record.read(from: &attempt)) != nil else { break }
                rest = attempt
                extra += 1
            }
            if rest.readableBytes == 0 { throw .recordsCountMismatch(declared: declared, found: count + extra) }
            throw .trailingRecordBytes(area.readableBytes)
        }
        return records
    }
}
