import NIOCore

/// One record of a v2 batch (`DefaultRecord.java`):
///
///     length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
///     keyLength varint, key, valueLength varint, value, headersCount varint, headers
///
/// All varints are zig-zag; a length of -1 is null. Decoded keys, values and header values are slices of
/// the (decompressed) records bytes, not copies.
public struct Record: Hashable, Sendable {
    /// The smallest encoded record: length, attributes, timestampDelta, offsetDelta, key length, value
    /// length and header count at one byte each.
    public static let minimumEncodedSize = 7

    /// Unused by Kafka; written as 0.
    public var attributes: Int8
    /// Record timestamp minus the batch's `baseTimestamp`.
    public var timestampDelta: Int64
    /// Record offset minus the batch's `baseOffset`.
    public var offsetDelta: Int32
    public var key: ByteBuffer?
    /// nil is a tombstone on compacted topics.
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    @inlinable
    public init(
        attributes: Int8 = 0, timestampDelta: Int64 = 0, offsetDelta: Int32 = 0,
        key: ByteBuffer? = nil, value: ByteBuffer?, headers: [RecordHeader] = []
    ) {
        self.attributes = attributes
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Bytes after the length prefix.
    @inlinable
    public var bodySize: Int {
        var size = 1 + KafkaSize.varlong(timestampDelta) + KafkaSize.varint(offsetDelta)
        size += Self.bytesSize(key) + Self.bytesSize(value)
        size += KafkaSize.varint(Int32(truncatingIfNeeded: headers.count))
        for header in headers { size += header.encodedSize }
        return size
    }

    /// Bytes `write` appends, length prefix included.
    @inlinable
    public var encodedSize: Int {
        let body = bodySize
        return KafkaSize.varint(Int32(truncatingIfNeeded: body)) + body
    }

    @inlinable
    public func write(to buffer: inout ByteBuffer) {
        write(to: &buffer, bodySize: bodySize)
    }

    /// `write` with the body size already known.
    @inlinable
    func write(to buffer: inout ByteBuffer, bodySize: Int) {
        buffer.writeVarint(Int32(truncatingIfNeeded: bodySize))
        buffer.writeInteger(attributes)
        buffer.writeVarlong(timestampDelta)
        buffer.writeVarint(offsetDelta)
        Self.writeBytes(key, to: &buffer)
        Self.writeBytes(value, to: &buffer)
        buffer.writeVarint(Int32(truncatingIfNeeded: headers.count))
        for header in headers { header.write(to: &buffer) }
    }

    /// Reads one record; its key, value and header values are slices of `buffer`. The record must use
    /// exactly the bytes its length prefix gives.
    @inlinable
    public static func read(from buffer: inout ByteBuffer) throws(KafkaWireError) -> Record {
        let length = try buffer.readVarint("Record.Length")
        guard length >= 0 else { throw KafkaWireError(.negativeLength(Int64(length)), field: "Record.Length") }
        guard var body = buffer.readSlice(length: Int(length)) else {
            throw KafkaWireError(.lengthExceedsFrame(claimed: Int64(length), available: buffer.readableBytes), field: "Record.Length")
        }
        let attributes = try body.readKafkaInt8("Record.Attributes")
        let timestampDelta = try body.readVarlong("Record.TimestampDelta")
        let offsetDelta = try body.readVarint("Record.OffsetDelta")
        let key = try readBytes(from: &body, "Record.Key")
        let value = try readBytes(from: &body, "Record.Value")
        let headerCount = try body.readVarint("Record.Headers")
        // Every header takes at least 2 bytes, so a count beyond that is rejected before allocating.
        guard headerCount >= 0, Int(headerCount) <= body.readableBytes / 2 else {
            throw KafkaWireError(
                headerCount < 0
                    ? .negativeLength(Int64(headerCount))
                    : .lengthExceedsFrame(claimed: Int64(headerCount), available: body.readableBytes),
                field: "Record.Headers")
        }
        var headers: [RecordHeader] = []
        if headerCount > 0 {
            headers.reserveCapacity(Int(headerCount))
            for _ in 0..<headerCount { headers.append(try RecordHeader.read(from: &body)) }
        }
        guard body.readableBytes == 0 else { throw KafkaWireError(.trailingBytes(body.readableBytes), field: "Record") }
        return Record(
            attributes: attributes, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
            key: key, value: value, headers: headers)
    }

    /// Size of a varint-length-prefixed nullable byte string.
    @inlinable
    static func bytesSize(_ bytes: ByteBuffer?) -> Int {
        guard let bytes else { return 1 }  // varint(-1)
        return KafkaSize.varint(Int32(truncatingIfNeeded: bytes.readableBytes)) + bytes.readableBytes
    }

    @inlinable
    static func writeBytes(_ bytes: ByteBuffer?, to buffer: inout ByteBuffer) {
        guard let bytes else { return buffer.writeVarint(-1) }
        buffer.writeVarint(Int32(truncatingIfNeeded: bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
    }

    @inlinable
    static func readBytes(from buffer: inout ByteBuffer, _ field: StaticString) throws(KafkaWireError) -> ByteBuffer? {
        let length = try buffer.readVarint(field)
        if length < 0 {
            guard length == -1 else { throw KafkaWireError(.negativeLength(Int64(length)), field: field) }
            return nil
        }
        guard let bytes = buffer.readSlice(length: Int(length)) else {
            throw KafkaWireError(.lengthExceedsFrame(claimed: Int64(length), available: buffer.readableBytes), field: field)
        }
        return bytes
    }
}
