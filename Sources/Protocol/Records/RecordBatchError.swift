/// Why bytes are not a valid v2 record batch.
///
/// `kafkaErrorCode` is the code a broker answers with: CORRUPT_MESSAGE (2) for checksum and size
/// problems, UNSUPPORTED_COMPRESSION_TYPE (76) for an unknown codec, INVALID_RECORD (87) otherwise.
/// (Java clients retry CORRUPT_MESSAGE, not INVALID_RECORD.)
public enum RecordBatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header or the declared `batchLength` need.
    case truncated(needed: Int, available: Int)
    /// `batchLength` is smaller than the 49 header bytes that follow it.
    case invalidBatchLength(Int32)
    /// A buffer meant to hold exactly one batch holds more bytes than the batch declares.
    case sizeMismatch(batchSize: Int, bufferSize: Int)
    /// The CRC-32C over bytes [21, end) does not match the stored one.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// Magic byte (offset 16) other than 2.
    case unsupportedMagic(Int8)
    /// Compression codec id (attribute bits 0–2) other than 0–4.
    case unsupportedCompression(Int16)
    /// `recordsCount` is negative, zero in a producer's non-control batch, or more than the bytes can hold.
    case invalidRecordsCount(Int32)
    /// A producer batch whose `lastOffsetDelta` is not `recordsCount - 1`.
    case invalidOffsetRange(lastOffsetDelta: Int32, recordsCount: Int32)
    /// The records area holds a different number of records than `recordsCount` says.
    case recordsCountMismatch(declared: Int32, found: Int)
    /// Bytes after the last record that do not parse as records.
    case trailingRecordBytes(Int)
    /// Record number `index` (from 0) does not parse.
    case malformedRecord(index: Int, KafkaWireError)
    /// The records area does not decompress (or would exceed the size bound), or does not compress.
    case compression(RecordCompressionError)
    /// A control record whose key or value does not parse.
    case invalidControlRecord(String)

    public static let corruptMessage: Int16 = 2
    public static let unsupportedCompressionType: Int16 = 76
    public static let invalidRecord: Int16 = 87

    /// The Kafka error code for this failure.
    @inlinable
    public var kafkaErrorCode: Int16 {
        switch self {
        case .truncated, .invalidBatchLength, .sizeMismatch, .crcMismatch:
            Self.corruptMessage
        case .unsupportedCompression:
            Self.unsupportedCompressionType
        case .unsupportedMagic, .invalidRecordsCount, .invalidOffsetRange, .recordsCountMismatch, .trailingRecordBytes,
            .malformedRecord, .compression, .invalidControlRecord:
            Self.invalidRecord
        }
    }

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "record batch truncated: needs \(needed) bytes, \(available) available"
        case .invalidBatchLength(let length):
            "record batch length \(length) is below the minimum of \(RecordBatchHeader.minimumBatchLength)"
        case .sizeMismatch(let batchSize, let bufferSize):
            "record batch of \(batchSize) bytes given in a buffer of \(bufferSize) bytes"
        case .crcMismatch(let stored, let computed):
            "record batch CRC mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case .unsupportedMagic(let magic):
            "record batch magic \(magic) is not supported (only 2)"
        case .unsupportedCompression(let id):
            "record batch compression codec \(id) is not supported"
        case .invalidRecordsCount(let count):
            "record batch records count \(count) is invalid"
        case .invalidOffsetRange(let lastOffsetDelta, let recordsCount):
            "record batch lastOffsetDelta \(lastOffsetDelta) does not match records count \(recordsCount)"
        case .recordsCountMismatch(let declared, let found):
            "record batch declares \(declared) records but holds \(found)"
        case .trailingRecordBytes(let count):
            "record batch has \(count) bytes after its last record"
        case .malformedRecord(let index, let error):
            "record \(index) of the batch is malformed: \(error)"
        case .compression(let error):
            "record batch \(error)"
        case .invalidControlRecord(let reason):
            "invalid control record: \(reason)"
        }
    }
}
