import MartletProtocol

/// Why a partition log operation failed, with the Kafka error code a broker answers with.
///
/// I/O failures carry the failing call, the path and `errno`; Kafka answers KAFKA_STORAGE_ERROR for
/// them and takes the log directory offline.
public enum LogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A read or DeleteRecords offset below the log start offset or above the log end offset.
    case offsetOutOfRange(offset: Int64, logStartOffset: Int64, logEndOffset: Int64)
    /// The batches of one append are larger than a whole segment (`log.segment.bytes`).
    case recordListTooLarge(size: Int, segmentBytes: Int)
    /// One batch is larger than `message.max.bytes`.
    case messageTooLarge(size: Int, maxBytes: Int)
    /// The bytes given to an append are not whole v2 batches, or fail their CRC (follower appends).
    case invalidRecords(RecordBatchError)
    /// A follower append whose offsets are not above the log end offset, or not increasing.
    case invalidAppendOffset(offset: Int64, logEndOffset: Int64)
    /// A checkpoint or metadata file that does not parse.
    case corruptCheckpoint(path: String, reason: String)
    /// `partition.metadata` names another topic id than the one the broker expects.
    case inconsistentTopicId(expected: KafkaUUID, found: KafkaUUID)
    /// A system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// The log was closed or deleted.
    case closed

    /// The Kafka error code for this failure.
    public var kafkaErrorCode: KafkaErrorCode {
        switch self {
        case .offsetOutOfRange: .offsetOutOfRange
        case .recordListTooLarge: .recordListTooLarge
        case .messageTooLarge: .messageTooLarge
        case .invalidRecords(let error): KafkaErrorCode(rawValue: error.kafkaErrorCode) ?? .corruptMessage
        case .invalidAppendOffset: .unknownServerError
        case .inconsistentTopicId: .inconsistentTopicId
        case .corruptCheckpoint, .io, .closed: .kafkaStorageError
        }
    }

    public var description: String {
        switch self {
        case .offsetOutOfRange(let offset, let start, let end):
            "offset \(offset) is out of range [\(start), \(end)]"
        case .recordListTooLarge(let size, let segmentBytes):
            "append of \(size) bytes is larger than the segment size \(segmentBytes)"
        case .messageTooLarge(let size, let maxBytes):
            "record batch of \(size) bytes is larger than message.max.bytes \(maxBytes)"
        case .invalidRecords(let error):
            "invalid records: \(error)"
        case .invalidAppendOffset(let offset, let logEndOffset):
            "append at offset \(offset) is not above the log end offset \(logEndOffset) or not increasing"
        case .corruptCheckpoint(let path, let reason):
            "corrupt file \(path): \(reason)"
        case .inconsistentTopicId(let expected, let found):
            "partition.metadata has topic id \(found), expected \(expected)"
        case .io(let operation, let path, let code):
            "\(operation) \(path) failed: errno \(code)"
        case .closed:
            "the log is closed"
        }
    }
}
