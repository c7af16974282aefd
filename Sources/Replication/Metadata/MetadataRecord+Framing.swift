import MartletProtocol
import NIOCore

/// Why a metadata record's bytes could not be read. Replay reports it instead of trapping, because the
/// bytes come from disk or another node.
public enum MetadataRecordDecodingError: Error, Hashable, Sendable {
    /// Only frame version 1 exists (`AbstractApiMessageSerde.DEFAULT_FRAME_VERSION`).
    case unsupportedFrameVersion(UInt32)
    /// A record type Martlet does not model (or no Kafka record type at all).
    case unknownRecordType(UInt32)
    /// A version outside the record type's spec range.
    case unsupportedVersion(recordType: Int16, version: UInt32)
    /// The body did not parse.
    case malformed(KafkaWireError)
    /// Bytes left over after the body, which Kafka refuses as garbage.
    case trailingBytes(recordType: Int16, count: Int)
}

/// KRaft's record framing (`AbstractApiMessageSerde`): `uvarint frameVersion (1)`, `uvarint apiKey` (the
/// record type), `uvarint version`, then the body. It is the value of each record in a `__cluster_metadata`
/// batch; the key is null.
extension MetadataRecord {
    /// The only frame version Kafka writes and reads.
    public static let frameVersion: UInt32 = 1

    /// Writes the record framed at its type's latest version, as a controller on the newest
    /// `metadata.version` does.
    public func encode(into buffer: inout ByteBuffer) throws(KafkaWireError) {
        switch self {
        case .registerBroker(let record): try Self.frame(record, into: &buffer)
        case .unregisterBroker(let record): try Self.frame(record, into: &buffer)
        case .topic(let record): try Self.frame(record, into: &buffer)
        case .partition(let record): try Self.frame(record, into: &buffer)
        case .config(let record): try Self.frame(record, into: &buffer)
        case .partitionChange(let record): try Self.frame(record, into: &buffer)
        case .fenceBroker(let record): try Self.frame(record, into: &buffer)
        case .unfenceBroker(let record): try Self.frame(record, into: &buffer)
        case .removeTopic(let record): try Self.frame(record, into: &buffer)
        case .featureLevel(let record): try Self.frame(record, into: &buffer)
        case .producerIds(let record): try Self.frame(record, into: &buffer)
        case .brokerRegistrationChange(let record): try Self.frame(record, into: &buffer)
        case .noOp(let record): try Self.frame(record, into: &buffer)
        case .registerController(let record): try Self.frame(record, into: &buffer)
        }
    }

    /// The framed bytes in a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaWireError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16)
        try encode(into: &buffer)
        return buffer
    }

    /// The framed bytes as a log entry's or a snapshot's record value.
    public func encodedBytes() throws(KafkaWireError) -> [UInt8] { Array(try encoded().readableBytesView) }

    /// Reads one framed record that fills `buffer` (a record value from a metadata batch).
    public init(framed buffer: ByteBuffer) throws(MetadataRecordDecodingError) {
        var buffer = buffer
        let frameVersion: UInt32
        let rawType: UInt32
        let version: UInt32
        do {
            frameVersion = try buffer.readUnsignedVarint("MetadataRecord.frameVersion")
            rawType = try buffer.readUnsignedVarint("MetadataRecord.apiKey")
            version = try buffer.readUnsignedVarint("MetadataRecord.version")
        } catch {
            throw .malformed(error)
        }
        guard frameVersion == Self.frameVersion else { throw .unsupportedFrameVersion(frameVersion) }
        switch rawType {
        case UInt32(RegisterBrokerRecord.recordType): self = .registerBroker(try Self.body(&buffer, version))
        case UInt32(UnregisterBrokerRecord.recordType): self = .unregisterBroker(try Self.body(&buffer, version))
        case UInt32(TopicRecord.recordType): self = .topic(try Self.body(&buffer, version))
        case UInt32(PartitionRecord.recordType): self = .partition(try Self.body(&buffer, version))
        case UInt32(ConfigRecord.recordType): self = .config(try Self.body(&buffer, version))
        case UInt32(PartitionChangeRecord.recordType): self = .partitionChange(try Self.body(&buffer, version))
        case UInt32(FenceBrokerRecord.recordType): self = .fenceBroker(try Self.body(&buffer, version))
        case UInt32(UnfenceBrokerRecord.recordType): self = .unfenceBroker(try Self.body(&buffer, version))
        case UInt32(RemoveTopicRecord.recordType): self = .removeTopic(try Self.body(&buffer, version))
        case UInt32(FeatureLevelRecord.recordType): self = .featureLevel(try Self.body(&buffer, version))
        case UInt32(ProducerIdsRecord.recordType): self = .producerIds(try Self.body(&buffer, version))
        case UInt32(BrokerRegistrationChangeRecord.recordType): self = .brokerRegistrationChange(try Self.body(&buffer, version))
        case UInt32(NoOpRecord.recordType): self = .noOp(try Self.body(&buffer, version))
        case UInt32(RegisterControllerRecord.recordType): self = .registerController(try Self.body(&buffer, version))
        default: throw .unknownRecordType(rawType)
        }
        guard buffer.readableBytes == 0 else {
            throw .trailingBytes(recordType: Int16(truncatingIfNeeded: rawType), count: buffer.readableBytes)
        }
    }

    private static func frame<Record: KafkaMetadataRecord>(_ record: Record, into buffer: inout ByteBuffer) throws(KafkaWireError) {
        buffer.writeUnsignedVarint(frameVersion)
        buffer.writeUnsignedVarint(UInt32(Record.recordType))
        buffer.writeUnsignedVarint(UInt32(Record.validVersions.upperBound))
        try record.encode(into: &buffer, version: Record.validVersions.upperBound)
    }

    private static func body<Record: KafkaMetadataRecord>(
        _ buffer: inout ByteBuffer, _ version: UInt32
    ) throws(MetadataRecordDecodingError) -> Record {
        guard version <= UInt32(Int16.max), Record.validVersions.contains(Int16(version)) else {
            throw .unsupportedVersion(recordType: Record.recordType, version: version)
        }
        do {
            return try Record(from: &buffer, version: Int16(version))
        } catch {
            throw .malformed(error)
        }
    }
}
