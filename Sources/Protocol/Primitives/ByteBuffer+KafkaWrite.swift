import NIOCore

/// Writers for Kafka's primitive types, the mirror of `ByteBuffer+KafkaRead`.
extension ByteBuffer {
    @inlinable
    public mutating func writeKafkaBool(_ value: Bool) { writeInteger(value ? 1 : 0, as: UInt8.self) }

    @inlinable
    public mutating func writeKafkaFloat64(_ value: Double) { writeInteger(value.bitPattern, endianness: .big) }

    @inlinable
    public mutating func writeKafkaUUID(_ value: KafkaUUID) {
        writeInteger(value.mostSignificantBits, endianness: .big)
        writeInteger(value.leastSignificantBits, endianness: .big)
    }

    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) { writeLEB128(value) }

    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) { writeLEB128(value) }

    /// Seven bits a byte, least significant first, the high bit saying "more follows".
    @inlinable
    mutating func writeLEB128<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(truncatingIfNeeded: value))
    }

    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Writes a length prefix for a present value (`length` >= 0) or the null marker (nil).
    @inlinable
    mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(UInt32(truncatingIfNeeded: (length ?? -1) + 1))
        } else if wide {
            writeInteger(Int32(truncatingIfNeeded: length ?? -1), endianness: .big)
        } else {
            writeInteger(Int16(truncatingIfNeeded: length ?? -1), endianness: .big)
        }
    }

    /// Strings have an int16 length in non-flexible versions; a longer one cannot be written.
    @inlinable
    public mutating func writeKafkaString(_ value: String, compact: Bool, _ field: StaticString) throws(KafkaWireError) {
        let count = value.utf8.count
        if !compact && count > Int(Int16.max) {
            throw KafkaWireError(.unencodable("string of \(count) bytes exceeds the int16 length"), field: field)
        }
        writeLength(count, compact: compact, wide: false)
        writeString(value)
    }

    @inlinable
    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, _ field: StaticString) throws(KafkaWireError) {
        guard let value else { return writeLength(nil, compact: compact, wide: false) }
        try writeKafkaString(value, compact: compact, field)
    }

    @inlinable
    public mutating func writeKafkaBytes(_ value: ByteBuffer, compact: Bool) {
        writeLength(value.readableBytes, compact: compact, wide: true)
        writeImmutableBuffer(value)
    }

    @inlinable
    public mutating func writeKafkaNullableBytes(_ value: ByteBuffer?, compact: Bool) {
        guard let value else { return writeLength(nil, compact: compact, wide: true) }
        writeKafkaBytes(value, compact: compact)
    }

    @inlinable
    public mutating func writeKafkaArrayCount(_ count: Int?, compact: Bool) {
        writeLength(count, compact: compact, wide: true)
    }

    /// Writes one tagged field whose body `body` writes; `size` must be the body's exact size.
    @inlinable
    public mutating func writeTaggedField(
        tag: UInt32, size: Int, body: (inout ByteBuffer) throws(KafkaWireError) -> Void
    ) throws(KafkaWireError) {
        writeUnsignedVarint(tag)
        writeUnsignedVarint(UInt32(size))
        try body(&self)
    }
}

/// Encoded sizes of Kafka's primitive types, so a message can size its buffer once before writing.
public enum KafkaSize {
    @inlinable
    public static func unsignedVarint(_ value: UInt32) -> Int {
        // Seven bits a byte: 1 byte up to 0x7F, ..., 5 bytes for values over 2^28 - 1.
        let bits = 32 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable
    public static func unsignedVarlong(_ value: UInt64) -> Int {
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inlinable
    public static func varint(_ value: Int32) -> Int {
        unsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    @inlinable
    public static func varlong(_ value: Int64) -> Int {
        unsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    static func length(_ length: Int?, compact: Bool, wide: Bool) -> Int {
        if compact { return unsignedVarint(UInt32(truncatingIfNeeded: (length ?? -1) + 1)) }
        return wide ? 4 : 2
    }

    @inlinable
    public static func string(_ value: String, compact: Bool) -> Int {
        let count = value.utf8.count
        return length(count, compact: compact, wide: false) + count
    }

    @inlinable
    public static func nullableString(_ value: String?, compact: Bool) -> Int {
        guard let value else { return length(nil, compact: compact, wide: false) }
        return string(value, compact: compact)
    }

    @inlinable
    public static func bytes(_ value: ByteBuffer, compact: Bool) -> Int {
        length(value.readableBytes, compact: compact, wide: true) + value.readableBytes
    }

    @inlinable
    public static func nullableBytes(_ value: ByteBuffer?, compact: Bool) -> Int {
        guard let value else { return length(nil, compact: compact, wide: true) }
        return bytes(value, compact: compact)
    }

    @inlinable
    public static func arrayCount(_ count: Int?, compact: Bool) -> Int {
        length(count, compact: compact, wide: true)
    }

    /// Size of one tagged field: tag, size prefix and body.
    @inlinable
    public static func taggedField(tag: UInt32, bodySize: Int) -> Int {
        unsignedVarint(tag) + unsignedVarint(UInt32(bodySize)) + bodySize
    }
}
