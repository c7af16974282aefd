import NIOCore

/// The type of a control record (`ControlRecordType.java`), the int16 after the version in its key.
/// Unknown types are kept as their number.
public struct ControlRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16

    @inlinable
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Transaction marker: the transaction aborted. Value: `EndTransactionMarker`.
    public static let abort = ControlRecordType(rawValue: 0)
    /// Transaction marker: the transaction committed. Value: `EndTransactionMarker`.
    public static let commit = ControlRecordType(rawValue: 1)
    /// KRaft: value is a `LeaderChangeMessage`.
    public static let leaderChange = ControlRecordType(rawValue: 2)
    /// KRaft: value is a `SnapshotHeaderRecord`.
    public static let snapshotHeader = ControlRecordType(rawValue: 3)
    /// KRaft: value is a `SnapshotFooterRecord`.
    public static let snapshotFooter = ControlRecordType(rawValue: 4)
    /// KRaft: value is a `KRaftVersionRecord`.
    public static let kraftVersion = ControlRecordType(rawValue: 5)
    /// KRaft: value is a `VotersRecord`.
    public static let kraftVoters = ControlRecordType(rawValue: 6)

    public var description: String {
        switch rawValue {
        case 0: "ABORT"
        case 1: "COMMIT"
        case 2: "LEADER_CHANGE"
        case 3: "SNAPSHOT_HEADER"
        case 4: "SNAPSHOT_FOOTER"
        case 5: "KRAFT_VERSION"
        case 6: "KRAFT_VOTERS"
        default: "UNKNOWN(\(rawValue))"
        }
    }
}

/// The key of a control record: `version int16 (0), type int16`.
public struct ControlRecordKey: Hashable, Sendable {
    public static let currentVersion: Int16 = 0
    public static let encodedSize = 4

    public var version: Int16
    public var type: ControlRecordType

    @inlinable
    public init(version: Int16 = ControlRecordKey.currentVersion, type: ControlRecordType) {
        self.version = version
        self.type = type
    }

    /// Parses a control record's key. Like Kafka, reads version and type and ignores anything after.
    @inlinable
    public init(from key: ByteBuffer) throws(RecordBatchError) {
        guard let version: Int16 = key.getInteger(at: key.readerIndex),
            let type: Int16 = key.getInteger(at: key.readerIndex + 2)
        else { throw .invalidControlRecord("key of \(key.readableBytes) bytes, needs 4") }
        guard version >= 0 else { throw .invalidControlRecord("negative key version \(version)") }
        self.init(version: version, type: ControlRecordType(rawValue: type))
    }

    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(version)
        buffer.writeInteger(type.rawValue)
    }

    public func encoded(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.encodedSize)
        write(to: &buffer)
        return buffer
    }
}

/// The value of an ABORT or COMMIT control record (`EndTransactionMarker.java`):
/// `version int16 (0), coordinatorEpoch int32`.
public struct EndTransactionMarker: Hashable, Sendable {
    public static let currentVersion: Int16 = 0
    public static let encodedSize = 6

    public var version: Int16
    /// The transaction coordinator's epoch, to fence zombie coordinators.
    public var coordinatorEpoch: Int32

    @inlinable
    public init(version: Int16 = EndTransactionMarker.currentVersion, coordinatorEpoch: Int32) {
        self.version = version
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Parses a marker value; bytes after the known fields (a newer version) are ignored, as Kafka does.
    @inlinable
    public init(from value: ByteBuffer) throws(RecordBatchError) {
        guard let version: Int16 = value.getInteger(at: value.readerIndex),
            let coordinatorEpoch: Int32 = value.getInteger(at: value.readerIndex + 2)
        else { throw .invalidControlRecord("end transaction marker of \(value.readableBytes) bytes, needs 6") }
        guard version >= 0 else { throw .invalidControlRecord("negative end transaction marker version \(version)") }
        self.init(version: version, coordinatorEpoch: coordinatorEpoch)
    }

    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(version)
        buffer.writeInteger(coordinatorEpoch)
    }

    public func encoded(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.encodedSize)
        write(to: &buffer)
        return buffer
    }
}

extension RecordBatch {
    /// A transaction marker batch, as a partition leader appends for WriteTxnMarkers: isTransactional and
    /// isControl set, CreateTime, one record whose key is `ControlRecordKey(type:)` (`.commit` or
    /// `.abort`) and whose value is an `EndTransactionMarker`. Uncompressed.
    public static func endTransactionMarker(
        type: ControlRecordType, coordinatorEpoch: Int32, producerId: Int64, producerEpoch: Int16,
        timestamp: Int64, baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1,
        allocator: ByteBufferAllocator = .init()
    ) -> ByteBuffer {
        var builder = RecordBatchBuilder(
            baseOffset: baseOffset, partitionLeaderEpoch: partitionLeaderEpoch, producerId: producerId,
            producerEpoch: producerEpoch, isTransactional: true, isControl: true, allocator: allocator,
            initialCapacity: RecordBatchHeader.size + 32)
        builder.append(
            timestamp: timestamp, key: ControlRecordKey(type: type).encoded(allocator: allocator),
            value: EndTransactionMarker(coordinatorEpoch: coordinatorEpoch).encoded(allocator: allocator))
        // Uncompressed: finish() cannot fail.
        guard let batch = try? builder.finish() else { preconditionFailure("uncompressed batch failed to encode") }
        return batch
    }

    /// The key of a control batch's record (a control batch holds exactly one).
    public func controlRecordKey() throws(RecordBatchError) -> ControlRecordKey {
        guard header.attributes.isControl else { throw .invalidControlRecord("not a control batch") }
        guard records.count == 1, let key = records[0].key else {
            throw .invalidControlRecord("a control batch needs exactly one record with a key, found \(records.count)")
        }
        return try ControlRecordKey(from: key)
    }
}
