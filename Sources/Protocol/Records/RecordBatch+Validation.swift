import NIOCore

extension RecordBatch {
    /// Which count rules `validate` applies.
    public enum ValidationMode: Hashable, Sendable {
        /// A producer's batch (Produce requests): `recordsCount` > 0 unless a control batch, and
        /// `lastOffsetDelta == recordsCount - 1` (`LogValidator`: "Inconsistent batch offset range").
        case produce
        /// Any batch a log may hold (replication, fetch, recovery): compaction leaves empty batches
        /// and offset gaps, so only `recordsCount` >= 0 is required.
        case stored
    }

    /// Checks the batch whose readable bytes are exactly `batch`, in place, without decoding records:
    /// magic, sizes, CRC-32C over [21, end), a known codec and the record count (for an uncompressed
    /// batch, also that the records area can hold that many records). Returns the header.
    ///
    /// This is the produce hot path: one pass of the CRC over the bytes, no allocation.
    @inlinable
    public static func validate(_ batch: ByteBuffer, mode: ValidationMode = .produce) throws(RecordBatchError) -> RecordBatchHeader {
        let header = try RecordBatchHeader(from: batch)
        guard header.batchLength >= RecordBatchHeader.minimumBatchLength else { throw .invalidBatchLength(header.batchLength) }
        let size = header.batchSize
        guard size <= batch.readableBytes else { throw .truncated(needed: size, available: batch.readableBytes) }
        guard size == batch.readableBytes else { throw .sizeMismatch(batchSize: size, bufferSize: batch.readableBytes) }
        let crc = batch.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.Offset.attributes...]))
        }
        guard crc == header.crc else { throw .crcMismatch(stored: header.crc, computed: crc) }
        guard let codec = header.attributes.compression else {
            throw .unsupportedCompression(header.attributes.compressionID)
        }
        let count = header.recordsCount
        guard count >= 0 else { throw .invalidRecordsCount(count) }
        if mode == .produce {
            guard count > 0 || header.attributes.isControl else { throw .invalidRecordsCount(count) }
            if count > 0 && header.lastOffsetDelta != count - 1 {
                throw .invalidOffsetRange(lastOffsetDelta: header.lastOffsetDelta, recordsCount: count)
            }
        }
        if codec == .none && Int(count) > (size - RecordBatchHeader.size) / Record.minimumEncodedSize {
            throw .invalidRecordsCount(count)
        }
        return header
    }

    /// Sets `baseOffset` and `partitionLeaderEpoch` of the batch starting at absolute `index` of `buffer`
    /// (its reader index by default). Neither field is covered by the CRC, so the batch stays valid.
    /// Writing into a slice that shares storage copies it (copy-on-write): keep the batch uniquely held.
    @inlinable
    public static func assign(
        baseOffset: Int64, partitionLeaderEpoch: Int32, in buffer: inout ByteBuffer, at index: Int? = nil
    ) {
        let start = index ?? buffer.readerIndex
        buffer.setInteger(baseOffset, at: start + RecordBatchHeader.Offset.baseOffset)
        buffer.setInteger(partitionLeaderEpoch, at: start + RecordBatchHeader.Offset.partitionLeaderEpoch)
    }

    /// Switches the batch at absolute `index` (reader index by default) to LogAppendTime with
    /// `maxTimestamp` = `timestamp`, as a broker does for topics with `message.timestamp.type=LogAppendTime`,
    /// and recomputes the CRC (both fields are covered by it). The batch must have passed `validate`.
    public static func setLogAppendTime(_ timestamp: Int64, in buffer: inout ByteBuffer, at index: Int? = nil) {
        let start = index ?? buffer.readerIndex
        var attributes = RecordBatchAttributes(rawValue: buffer.getInteger(at: start + RecordBatchHeader.Offset.attributes)!)
        attributes.timestampType = .logAppendTime
        buffer.setInteger(attributes.rawValue, at: start + RecordBatchHeader.Offset.attributes)
        buffer.setInteger(timestamp, at: start + RecordBatchHeader.Offset.maxTimestamp)
        let batchLength: Int32 = buffer.getInteger(at: start + RecordBatchHeader.Offset.batchLength)!
        updateCRC(in: &buffer, batchAt: start, batchSize: RecordBatchHeader.logOverhead + Int(batchLength))
    }

    /// Recomputes and stores the CRC of the batch of `batchSize` bytes at absolute `start`.
    static func updateCRC(in buffer: inout ByteBuffer, batchAt start: Int, batchSize: Int) {
        // Read through a pointer rather than a slice: a live slice would make the write below copy.
        let from = start + RecordBatchHeader.Offset.attributes - buffer.readerIndex
        let crc = buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[from..<from + batchSize - RecordBatchHeader.Offset.attributes]))
        }
        buffer.setInteger(crc, at: start + RecordBatchHeader.Offset.crc)
    }
}
