import NIOCore

/// Writes one v2 batch record by record, the way a producer does: offset deltas 0, 1, 2, …, timestamp
/// deltas from the first record's timestamp, then `finish()` compresses the records and fills in
/// lastOffsetDelta, maxTimestamp, recordsCount, batchLength and the CRC.
///
/// Records are written straight into the batch buffer (uncompressed), so appending allocates nothing
/// beyond buffer growth.
public struct RecordBatchBuilder: Sendable {
    @usableFromInline var _header: RecordBatchHeader
    /// The header the batch gets; its derived fields are filled in by `finish()`.
    @inlinable
    public var header: RecordBatchHeader { _header }
    /// The timestamp of LogAppendTime batches, or nil for CreateTime.
    public let logAppendTime: Int64?
    @usableFromInline var buffer: ByteBuffer  // [61 header bytes][uncompressed records], or empty
    @usableFromInline var count: Int32 = 0
    @usableFromInline var maxTimestamp: Int64 = -1
    @usableFromInline let allocator: ByteBufferAllocator
    @usableFromInline let initialCapacity: Int

    public init(
        compression: CompressionCodec = .none, baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        isTransactional: Bool = false, isControl: Bool = false, logAppendTime: Int64? = nil,
        allocator: ByteBufferAllocator = .init(), initialCapacity: Int = 1024
    ) {
        _header = RecordBatchHeader(
            baseOffset: baseOffset, partitionLeaderEpoch: partitionLeaderEpoch,
            attributes: RecordBatchAttributes(
                compression: compression, timestampType: logAppendTime == nil ? .createTime : .logAppendTime,
                isTransactional: isTransactional, isControl: isControl),
            producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence)
        self.logAppendTime = logAppendTime
        self.allocator = allocator
        self.initialCapacity = max(initialCapacity, RecordBatchHeader.size)
        buffer = allocator.buffer(capacity: 0)
    }

    /// Records appended so far.
    @inlinable
    public var recordsCount: Int { Int(count) }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Size of the batch so far before compression (header included), to compare with `batch.size`.
    @inlinable
    public var uncompressedSize: Int { RecordBatchHeader.size + max(0, buffer.readableBytes - RecordBatchHeader.size) }

    /// Appends a record at the next offset delta. The first record's timestamp becomes `baseTimestamp`.
    @inlinable
    public mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        if count == 0 {
            _header.baseTimestamp = timestamp
            maxTimestamp = timestamp
            if buffer.readableBytes == 0 {
                buffer.reserveCapacity(initialCapacity)
                buffer.writeRepeatingByte(0, count: RecordBatchHeader.size)
            }
        }
        let record = Record(
            timestampDelta: timestamp - header.baseTimestamp, offsetDelta: count, key: key, value: value, headers: headers)
        record.write(to: &buffer)
        maxTimestamp = max(maxTimestamp, timestamp)
        count += 1
    }

    /// The finished batch. The builder is then empty again, with the same settings.
    ///
    /// An empty builder gives an empty batch (recordsCount 0, timestamps -1), which only control and
    /// compacted batches may be. Throws only if compression fails.
    public mutating func finish() throws(RecordBatchError) -> ByteBuffer {
        var header = _header
        header.recordsCount = count
        header.lastOffsetDelta = max(0, count - 1)
        header.maxTimestamp = logAppendTime ?? (count > 0 ? maxTimestamp : -1)
        if count == 0 { header.baseTimestamp = -1 }

        var records = buffer
        buffer = allocator.buffer(capacity: 0)  // `records` is now the only reference: no copy below
        count = 0
        maxTimestamp = -1
        if records.readableBytes == 0 { records.writeRepeatingByte(0, count: RecordBatchHeader.size) }

        var output: ByteBuffer
        if let codec = header.attributes.compression, codec != .none {
            output = allocator.buffer(capacity: RecordBatchHeader.size + records.readableBytes / 2)
            output.writeRepeatingByte(0, count: RecordBatchHeader.size)
            records.moveReaderIndex(forwardBy: RecordBatchHeader.size)
            do {
                try RecordCompression.compress(records, codec: codec, appendingTo: &output)
            } catch {
                throw .compression(error)
            }
        } else {
            output = records
        }
        RecordBatch.finish(&output, batchAt: output.readerIndex, header: &header)
        return output
    }
}
