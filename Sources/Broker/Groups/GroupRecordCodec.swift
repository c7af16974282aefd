import MartletProtocol
import NIOCore

/// The bytes of `__consumer_offsets` records, as Kafka's `CoordinatorRecordSerde` frames them: the key is an
/// int16 record type (0 or 1: offset commit, 2: group metadata; 3 and up belong to the newer consumer and
/// share group protocols) then the key struct; the value is an int16 version then the value struct; a
/// null value is a tombstone.
public enum GroupRecordCodec {
    /// Key versions written, as Kafka writes them.
    public static let offsetCommitKeyVersion: Int16 = 1
    public static let groupMetadataKeyVersion: Int16 = 2

    public static func encode(_ record: GroupCoordinatorRecord, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaWireError) -> (key: ByteBuffer, value: ByteBuffer?) {
        switch record {
        case .offsetCommit(let key, let value):
            let keyBytes = try frame(key, version: offsetCommitKeyVersion, allocator: allocator)
            guard let value else { return (keyBytes, nil) }
            let version = CommittedOffset(value).recordValueVersion
            return (keyBytes, try frame(value, version: version, allocator: allocator))
        case .groupMetadata(let key, let value):
            let keyBytes = try frame(key, version: groupMetadataKeyVersion, allocator: allocator)
            guard let value else { return (keyBytes, nil) }
            return (keyBytes, try frame(value, version: ClassicGroup.metadataValueVersion, allocator: allocator))
        }
    }

    /// The record in `key` and `value`, or nil for a record type this coordinator does not keep (the
    /// newer group protocols' records), which a loader skips.
    public static func decode(key: ByteBuffer, value: ByteBuffer?) throws(KafkaWireError) -> GroupCoordinatorRecord? {
        var key = key
        let type = try key.readKafkaInt16("GroupCoordinatorRecord.KeyVersion")
        switch type {
        case 0, 1:
            let decodedKey = try OffsetCommitKey(from: &key, version: type)
            return .offsetCommit(decodedKey, try value.map { bytes throws(KafkaWireError) in try unframe(OffsetCommitValue.self, bytes) })
        case 2:
            let decodedKey = try GroupMetadataKey(from: &key, version: type)
            return .groupMetadata(decodedKey, try value.map { bytes throws(KafkaWireError) in try unframe(GroupMetadataValue.self, bytes) })
        case 3...:
            return nil
        default:
            throw KafkaWireError(.unsupportedVersion(apiKey: -1, version: type), field: "GroupCoordinatorRecord.KeyVersion")
        }
    }

    private static func frame<Message: KafkaMessage>(_ message: Message, version: Int16, allocator: ByteBufferAllocator) throws(KafkaWireError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 2 + message.size(version: version))
        buffer.writeInteger(version, endianness: .big)
        try message.encode(into: &buffer, version: version)
        return buffer
    }

    private static func unframe<Message: KafkaMessage>(_ type: Message.Type, _ bytes: ByteBuffer) throws(KafkaWireError) -> Message {
        var bytes = bytes
        let version = try bytes.readKafkaInt16("GroupCoordinatorRecord.ValueVersion")
        guard Message.validVersions.contains(version) else {
            throw KafkaWireError(.unsupportedVersion(apiKey: -1, version: version), fieldName: "\(Message.self).version")
        }
        return try Message(from: &bytes, version: version)
    }
}
