import NIOCore

extension RecordBatch {
    /// Appends this batch in wire form to `buffer`, compressed with `header.attributes.compression`, and
    /// returns the header as written.
    ///
    /// Taken from `header` as given: baseOffset, partitionLeaderEpoch, attributes, baseTimestamp,
    /// producerId, producerEpoch, baseSequence (and maxTimestamp for LogAppendTime or an empty batch).
    /// Computed: magic (2), recordsCount, lastOffsetDelta (the last record's offsetDelta; kept for an
    /// empty batch), maxTimestamp for CreateTime (baseTimestamp + the largest timestampDelta),
    /// batchLength and crc.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer, allocator: ByteBufferAllocator = .init()) throws(RecordBatchError) -> RecordBatchHeader {
        guard let codec = header.attributes.compression else { throw .unsupportedCompression(header.attributes.compressionID) }
        var header = self.header
        header.magic = RecordBatchHeader.currentMagic
        header.recordsCount = Int32(records.count)
        if let last = records.last {
            header.lastOffsetDelta = last.offsetDelta
            if header.attributes.timestampType == .createTime {
                header.maxTimestamp = header.baseTimestamp + records.lazy.map(\.timestampDelta).max()!
            }
        }
        var recordsSize = 0
        for record in records { recordsSize += record.encodedSize }

        let start = buffer.writerIndex
        if codec == .none {
            buffer.reserveCapacity(minimumWritableBytes: RecordBatchHeader.size + recordsSize)
            header.write(to: &buffer)
            for record in records { record.write(to: &buffer) }
        } else {
            var plain = allocator.buffer(capacity: recordsSize)
            for record in records { record.write(to: &plain) }
            header.write(to: &buffer)
            do {
                try RecordCompression.compress(plain, codec: codec, appendingTo: &buffer)
            } catch {
                buffer.moveWriterIndex(to: start)
                throw .compression(error)
            }
        }
        Self.finish(&buffer, batchAt: start, header: &header)
        return header
    }

    /// This batch encoded into a new buffer; see `encode(into:allocator:)`.
    public func encoded(allocator: ByteBufferAllocator = .init()) throws(RecordBatchError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: RecordBatchHeader.size)
        try encode(into: &buffer, allocator: allocator)
        return buffer
    }

    /// Completes a batch written from absolute `start` to the writer index: sets batchLength, writes the
    /// header and then the CRC.
    static func finish(_ buffer: inout ByteBuffer, batchAt start: Int, header: inout RecordBatchHeader) {
        let size = buffer.writerIndex - start
        header.batchLength = Int32(size - RecordBatchHeader.logOverhead)
        header.write(to: &buffer, at: start)
        updateCRC(in: &buffer, batchAt: start, batchSize: size)
        header.crc = buffer.getInteger(at: start + RecordBatchHeader.Offset.crc)!
    }
}
