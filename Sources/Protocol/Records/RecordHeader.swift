import NIOCore

/// A record header: a UTF-8 key and an optional value (a slice of the batch's bytes once decoded).
public struct RecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    @inlinable
    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }

    /// Encoded size: key length varint, key, value length varint (-1 for null), value.
    @inlinable
    public var encodedSize: Int {
        let keyCount = key.utf8.count
        return KafkaSize.varint(Int32(truncatingIfNeeded: keyCount)) + keyCount + Record.bytesSize(value)
    }

    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeVarint(Int32(truncatingIfNeeded: key.utf8.count))
        buffer.writeString(key)
        Record.writeBytes(value, to: &buffer)
    }

    /// Reads one header; its value is a slice of `buffer`.
    @inlinable
    public static func read(from buffer: inout ByteBuffer) throws(KafkaWireError) -> RecordHeader {
        let keyLength = try buffer.readVarint("Record.Header.Key")
        guard keyLength >= 0 else { throw KafkaWireError(.negativeLength(Int64(keyLength)), field: "Record.Header.Key") }
        guard Int(keyLength) <= buffer.readableBytes else {
            throw KafkaWireError(
                .lengthExceedsFrame(claimed: Int64(keyLength), available: buffer.readableBytes), field: "Record.Header.Key")
        }
        let key = try buffer.readValidatedString(length: Int(keyLength), "Record.Header.Key")
        let value = try Record.readBytes(from: &buffer, "Record.Header.Value")
        return RecordHeader(key: key, value: value)
    }
}
