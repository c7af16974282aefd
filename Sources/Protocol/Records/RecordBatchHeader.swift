import NIOCore

/// The 61-byte header of a v2 record batch (`DefaultRecordBatch.java`), every field at a fixed offset.
public struct RecordBatchHeader: Hashable, Sendable {
    /// Header size (`RECORD_BATCH_OVERHEAD`); the records start here.
    public static let size = 61
    /// The only magic this type reads.
    public static let currentMagic: Int8 = 2
    /// Bytes before `batchLength` counts: baseOffset and batchLength.
    public static let logOverhead = 12
    /// The smallest valid `batchLength`: the header bytes after the length field.
    public static let minimumBatchLength: Int32 = 49

    /// Field offsets from the start of a batch.
    public enum Offset {
        public static let baseOffset = 0
        public static let batchLength = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        /// The CRC covers [attributes, end of batch).
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerId = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordsCount = 57
        public static let records = 61
    }

    /// Offset of the first record; producers send 0, the leader assigns it.
    public var baseOffset: Int64
    /// Bytes after this field: the batch's total size minus 12.
    public var batchLength: Int32
    /// Set by the leader; not covered by the CRC; -1 if unknown.
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    /// CRC-32C of bytes [21, end).
    public var crc: UInt32
    public var attributes: RecordBatchAttributes
    /// Offset of the last record minus `baseOffset` (also the last sequence delta).
    public var lastOffsetDelta: Int32
    /// Timestamp of the first record (the delete horizon if `hasDeleteHorizonMs`); -1 for an empty batch.
    public var baseTimestamp: Int64
    /// Largest record timestamp, or the broker's time for LogAppendTime.
    public var maxTimestamp: Int64
    /// -1 if not idempotent or transactional.
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    /// Number of records (of the uncompressed records).
    public var recordsCount: Int32

    @inlinable
    public init(
        baseOffset: Int64 = 0, batchLength: Int32 = RecordBatchHeader.minimumBatchLength,
        partitionLeaderEpoch: Int32 = -1, magic: Int8 = RecordBatchHeader.currentMagic, crc: UInt32 = 0,
        attributes: RecordBatchAttributes = RecordBatchAttributes(), lastOffsetDelta: Int32 = 0,
        baseTimestamp: Int64 = -1, maxTimestamp: Int64 = -1, producerId: Int64 = -1, producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1, recordsCount: Int32 = 0
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordsCount = recordsCount
    }

    /// Reads the header of the batch starting at absolute `index` of `buffer` without moving its reader
    /// index. Checks the magic byte first (legacy formats keep it at the same offset), then that all 61
    /// header bytes are there; nothing else.
    @inlinable
    public init(from buffer: ByteBuffer, at index: Int) throws(RecordBatchError) {
        let available = buffer.writerIndex - index
        guard index >= buffer.readerIndex, available > Offset.magic else {
            throw .truncated(needed: Self.size, available: max(0, available))
        }
        let magic = buffer.getInteger(at: index + Offset.magic, as: Int8.self)!
        guard magic == Self.currentMagic else { throw .unsupportedMagic(magic) }
        guard available >= Self.size else { throw .truncated(needed: Self.size, available: available) }
        self.init(
            baseOffset: buffer.getInteger(at: index + Offset.baseOffset)!,
            batchLength: buffer.getInteger(at: index + Offset.batchLength)!,
            partitionLeaderEpoch: buffer.getInteger(at: index + Offset.partitionLeaderEpoch)!,
            magic: magic,
            crc: buffer.getInteger(at: index + Offset.crc)!,
            attributes: RecordBatchAttributes(rawValue: buffer.getInteger(at: index + Offset.attributes)!),
            lastOffsetDelta: buffer.getInteger(at: index + Offset.lastOffsetDelta)!,
            baseTimestamp: buffer.getInteger(at: index + Offset.baseTimestamp)!,
            maxTimestamp: buffer.getInteger(at: index + Offset.maxTimestamp)!,
            producerId: buffer.getInteger(at: index + Offset.producerId)!,
            producerEpoch: buffer.getInteger(at: index + Offset.producerEpoch)!,
            baseSequence: buffer.getInteger(at: index + Offset.baseSequence)!,
            recordsCount: buffer.getInteger(at: index + Offset.recordsCount)!
        )
    }

    /// Reads the header of the batch at `buffer`'s reader index (without moving it).
    @inlinable
    public init(from buffer: ByteBuffer) throws(RecordBatchError) {
        try self.init(from: buffer, at: buffer.readerIndex)
    }

    /// Overwrites the 61 bytes at absolute `index` (they must already be written) with this header.
    @inlinable
    public func write(to buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(baseOffset, at: index + Offset.baseOffset)
        buffer.setInteger(batchLength, at: index + Offset.batchLength)
        buffer.setInteger(partitionLeaderEpoch, at: index + Offset.partitionLeaderEpoch)
        buffer.setInteger(magic, at: index + Offset.magic)
        buffer.setInteger(crc, at: index + Offset.crc)
        buffer.setInteger(attributes.rawValue, at: index + Offset.attributes)
        buffer.setInteger(lastOffsetDelta, at: index + Offset.lastOffsetDelta)
        buffer.setInteger(baseTimestamp, at: index + Offset.baseTimestamp)
        buffer.setInteger(maxTimestamp, at: index + Offset.maxTimestamp)
        buffer.setInteger(producerId, at: index + Offset.producerId)
        buffer.setInteger(producerEpoch, at: index + Offset.producerEpoch)
        buffer.setInteger(baseSequence, at: index + Offset.baseSequence)
        buffer.setInteger(recordsCount, at: index + Offset.recordsCount)
    }

    /// Appends this header (61 bytes) to `buffer`.
    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        let index = buffer.writerIndex
        buffer.writeRepeatingByte(0, count: Self.size)
        write(to: &buffer, at: index)
    }

    /// Total bytes of the batch: `batchLength` + 12.
    @inlinable
    public var batchSize: Int { Self.logOverhead + Int(batchLength) }

    /// Offset of the last record.
    @inlinable
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }

    /// Offset after the batch (the log end offset once it is appended).
    @inlinable
    public var nextOffset: Int64 { lastOffset + 1 }

    /// Sequence of the last record, wrapping from Int32.max to 0 (`DefaultRecordBatch.incrementSequence`);
    /// -1 without a producer sequence.
    @inlinable
    public var lastSequence: Int32 {
        guard baseSequence >= 0 else { return -1 }
        if baseSequence > Int32.max - lastOffsetDelta { return lastOffsetDelta - (Int32.max - baseSequence) - 1 }
        return baseSequence + lastOffsetDelta
    }
}
