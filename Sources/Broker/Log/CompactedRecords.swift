import MartletProtocol
import NIOCore

/// One record of an uncompressed records area, as positions in it (no copies), for the log cleaner
/// and the compacted-topic key check. Layout (`DefaultRecord.java`): length varint, attributes int8,
/// timestampDelta varlong, offsetDelta varint, key length varint, key, value length varint, value,
/// headers.
struct RawRecord {
    /// Where the record starts (its length prefix) and ends.
    var start: Int
    var end: Int
    /// Where its timestampDelta ends: the rest of the body is copied unchanged when it is re-based.
    var timestampDeltaEnd: Int
    var attributes: UInt8
    var timestampDelta: Int64
    var offsetDelta: Int32
    /// Key position; `keyLength` -1 for a null key.
    var keyStart: Int
    var keyLength: Int
    /// A null value: a tombstone.
    var valueIsNull: Bool

    var hasKey: Bool { keyLength >= 0 }
}

/// Reads the records of an uncompressed records area one by one, checking only that each lies inside
/// the area and inside its own length prefix (the batch CRC was checked before).
struct RawRecordReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// Records read so far.
    private(set) var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next record, or nil at the end of the area.
    mutating func next() throws(RecordBatchError) -> RawRecord? {
        guard position < bytes.count else { return nil }
        func malformed(_ kind: KafkaWireError.Kind) -> RecordBatchError {
            .malformedRecord(index: index, KafkaWireError(kind, field: "Record"))
        }
        let start = position
        guard let length = readVarint(&position, end: bytes.count), length >= 0 else { throw malformed(.varintOverflow) }
        let end = position + Int(length)
        guard end <= bytes.count else { throw malformed(.lengthExceedsFrame(claimed: length, available: bytes.count - position)) }
        guard position < end else { throw malformed(.truncated(needed: 1, available: 0)) }
        let attributes = bytes[position]
        position += 1
        guard let timestampDelta = readVarint(&position, end: end) else { throw malformed(.varintOverflow) }
        let timestampDeltaEnd = position
        guard let offsetDelta = readVarint(&position, end: end), let offsetDelta32 = Int32(exactly: offsetDelta),
            let keyLength = readVarint(&position, end: end), keyLength >= -1, keyLength <= end - position
        else { throw malformed(.varintOverflow) }
        let keyStart = position
        if keyLength > 0 { position += Int(keyLength) }
        guard let valueLength = readVarint(&position, end: end), valueLength >= -1, valueLength <= end - position else {
            throw malformed(.varintOverflow)
        }
        position = end  // headers are kept as they are
        index += 1
        return RawRecord(
            start: start, end: end, timestampDeltaEnd: timestampDeltaEnd, attributes: attributes, timestampDelta: timestampDelta,
            offsetDelta: offsetDelta32, keyStart: keyStart, keyLength: Int(keyLength), valueIsNull: valueLength < 0)
    }

    func key(of record: RawRecord) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[record.keyStart..<record.keyStart + max(record.keyLength, 0)])
    }

    /// A zig-zag varint or varlong (at most 10 bytes), or nil if it runs past `end` or overflows.
    @inline(__always)
    private func readVarint(_ position: inout Int, end: Int) -> Int64? {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while position < end && shift < 70 {
            let byte = bytes[position]
            position += 1
            raw |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))) }
            shift += 7
        }
        return nil
    }
}

extension PartitionLog {
    /// The message Kafka answers a keyless record on a compacted topic with (`LogValidator.validateKey`).
    public static func missingKeyMessage(topic: String, partition: Int32) -> String {
        "Compacted topic cannot accept message without key in topic partition \(topic)-\(partition)."
    }

    /// Kafka's produce check for compacted topics (`cleanup.policy` with `compact`): the index of the
    /// first record without a key in `batches` (counted from the first record of the first batch; a
    /// produce request carries one batch, so this is Kafka's `RecordError.batchIndex`), or nil if every
    /// record has one. Kafka rejects such a batch with INVALID_RECORD (87) and that record error,
    /// message `missingKeyMessage(topic:partition:)` (older brokers answered CORRUPT_MESSAGE).
    ///
    /// Control batches are not checked. Compressed batches are decompressed into at most
    /// `maximumUncompressedSize` bytes; nothing is copied for uncompressed ones. The batches must have
    /// passed `RecordBatch.validate`; malformed records throw.
    public static func firstRecordWithoutKey(
        in batches: ByteBuffer, maximumUncompressedSize: Int = 256 << 20
    ) throws(RecordBatchError) -> Int? {
        var iterator = RecordBatchSequence(batches).makeIterator()
        var recordsBefore = 0
        while let batch = try iterator.nextBatch() {
            let header = try RecordBatchHeader(from: batch)
            if header.attributes.isControl { continue }
            let area = try recordsArea(of: batch, header: header, maximumUncompressedSize: maximumUncompressedSize)
            let found: Result<Int?, RecordBatchError> = area.withUnsafeReadableBytes { bytes in
                var reader = RawRecordReader(bytes)
                do throws(RecordBatchError) {
                    while let record = try reader.next() {
                        if !record.hasKey { return .success(reader.index - 1) }
                    }
                } catch {
                    return .failure(error)
                }
                return .success(nil)
            }
            if let index = try found.get() { return recordsBefore + index }
            recordsBefore += Int(header.recordsCount)
        }
        return nil
    }

    /// The (decompressed) records area of `batch`, whose readable bytes are one whole batch.
    static func recordsArea(
        of batch: ByteBuffer, header: RecordBatchHeader, maximumUncompressedSize: Int
    ) throws(RecordBatchError) -> ByteBuffer {
        guard let codec = header.attributes.compression else { throw .unsupportedCompression(header.attributes.compressionID) }
        guard header.batchSize <= batch.readableBytes else {
            throw .truncated(needed: header.batchSize, available: batch.readableBytes)
        }
        let area = batch.getSlice(at: batch.readerIndex + RecordBatchHeader.size, length: header.batchSize - RecordBatchHeader.size)!
        if codec == .none { return area }
        do {
            return try RecordCompression.decompress(area, codec: codec, maximumSize: maximumUncompressedSize)
        } catch {
            throw .compression(error)
        }
    }
}
