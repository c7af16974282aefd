import NIOCore

/// Readers for Kafka's primitive types. Each throws a `KafkaWireError` naming `field` instead of trapping,
/// and never allocates more than the buffer actually holds, whatever a length prefix claims.
extension ByteBuffer {
    @inlinable
    mutating func readFixed<T: FixedWidthInteger>(_ type: T.Type, _ field: StaticString) throws(KafkaWireError) -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw KafkaWireError(.truncated(needed: MemoryLayout<T>.size, available: readableBytes), field: field)
        }
        return value
    }

    @inlinable
    public mutating func readKafkaInt8(_ field: StaticString) throws(KafkaWireError) -> Int8 { try readFixed(Int8.self, field) }
    @inlinable
    public mutating func readKafkaInt16(_ field: StaticString) throws(KafkaWireError) -> Int16 { try readFixed(Int16.self, field) }
    @inlinable
    public mutating func readKafkaInt32(_ field: StaticString) throws(KafkaWireError) -> Int32 { try readFixed(Int32.self, field) }
    @inlinable
    public mutating func readKafkaInt64(_ field: StaticString) throws(KafkaWireError) -> Int64 { try readFixed(Int64.self, field) }
    @inlinable
    public mutating func readKafkaUInt16(_ field: StaticString) throws(KafkaWireError) -> UInt16 { try readFixed(UInt16.self, field) }
    @inlinable
    public mutating func readKafkaUInt32(_ field: StaticString) throws(KafkaWireError) -> UInt32 { try readFixed(UInt32.self, field) }

    @inlinable
    public mutating func readKafkaBool(_ field: StaticString) throws(KafkaWireError) -> Bool {
        try readFixed(UInt8.self, field) != 0
    }

    @inlinable
    public mutating func readKafkaFloat64(_ field: StaticString) throws(KafkaWireError) -> Double {
        Double(bitPattern: try readFixed(UInt64.self, field))
    }

    @inlinable
    public mutating func readKafkaUUID(_ field: StaticString) throws(KafkaWireError) -> KafkaUUID {
        let high = try readFixed(UInt64.self, field)
        let low = try readFixed(UInt64.self, field)
        return KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
    }

    /// Unsigned LEB128 varint of at most 5 bytes (the flexible-version lengths, counts and tags).
    @inlinable
    public mutating func readUnsignedVarint(_ field: StaticString) throws(KafkaWireError) -> UInt32 {
        try readLEB128(UInt32.self, field)
    }

    /// Unsigned LEB128 varint of at most 10 bytes.
    @inlinable
    public mutating func readUnsignedVarlong(_ field: StaticString) throws(KafkaWireError) -> UInt64 {
        try readLEB128(UInt64.self, field)
    }

    /// Seven bits a byte, least significant first; a value that overflows `Value` is an error.
    @inlinable
    mutating func readLEB128<Value: FixedWidthInteger & UnsignedInteger>(
        _ type: Value.Type, _ field: StaticString
    ) throws(KafkaWireError) -> Value {
        var result: Value = 0
        var shift = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else {
                throw KafkaWireError(.truncated(needed: 1, available: 0), field: field)
            }
            // The last byte may only carry the bits that are left.
            if shift + 7 > Value.bitWidth && Int(byte) >> (Value.bitWidth - shift) != 0 {
                throw KafkaWireError(.varintOverflow, field: field)
            }
            result |= Value(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Zig-zag signed varint (record fields).
    @inlinable
    public mutating func readVarint(_ field: StaticString) throws(KafkaWireError) -> Int32 {
        let raw = try readUnsignedVarint(field)
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Zig-zag signed varlong (record timestamps).
    @inlinable
    public mutating func readVarlong(_ field: StaticString) throws(KafkaWireError) -> Int64 {
        let raw = try readUnsignedVarlong(field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A length prefix: int16 (strings), int32 (bytes, arrays) or compact (unsigned varint holding N+1).
    /// Returns nil for the null marker; checks the length against the bytes left when `bytesPerUnit` > 0.
    @inlinable
    mutating func readLength(
        _ field: StaticString, compact: Bool, wide: Bool, nullable: Bool, bytesPerUnit: Int
    ) throws(KafkaWireError) -> Int? {
        let length: Int64
        if compact {
            length = Int64(try readUnsignedVarint(field)) - 1
        } else if wide {
            length = Int64(try readFixed(Int32.self, field))
        } else {
            length = Int64(try readFixed(Int16.self, field))
        }
        if length < 0 {
            if length == -1 && nullable { return nil }
            throw KafkaWireError(length == -1 ? .unexpectedNull : .negativeLength(length), field: field)
        }
        if length * Int64(bytesPerUnit) > Int64(readableBytes) {
            throw KafkaWireError(.lengthExceedsFrame(claimed: length, available: readableBytes), field: field)
        }
        return Int(length)
    }

    @inlinable
    mutating func readValidatedString(length: Int, _ field: StaticString) throws(KafkaWireError) -> String {
        let string: String? = withUnsafeReadableBytes { raw in
            String(validating: UnsafeRawBufferPointer(rebasing: raw[..<length]), as: UTF8.self)
        }
        guard let string else { throw KafkaWireError(.invalidUTF8, field: field) }
        moveReaderIndex(forwardBy: length)
        return string
    }

    @inlinable
    public mutating func readKafkaString(_ field: StaticString, compact: Bool) throws(KafkaWireError) -> String {
        let length = try readLength(field, compact: compact, wide: false, nullable: false, bytesPerUnit: 1)!
        return try readValidatedString(length: length, field)
    }

    @inlinable
    public mutating func readKafkaNullableString(_ field: StaticString, compact: Bool) throws(KafkaWireError) -> String? {
        guard let length = try readLength(field, compact: compact, wide: false, nullable: true, bytesPerUnit: 1) else {
            return nil
        }
        return try readValidatedString(length: length, field)
    }

    /// Bytes as a slice of this buffer: no copy.
    @inlinable
    public mutating func readKafkaBytes(_ field: StaticString, compact: Bool) throws(KafkaWireError) -> ByteBuffer {
        let length = try readLength(field, compact: compact, wide: true, nullable: false, bytesPerUnit: 1)!
        return readSlice(length: length)!
    }

    @inlinable
    public mutating func readKafkaNullableBytes(_ field: StaticString, compact: Bool) throws(KafkaWireError) -> ByteBuffer? {
        guard let length = try readLength(field, compact: compact, wide: true, nullable: true, bytesPerUnit: 1) else {
            return nil
        }
        return readSlice(length: length)!
    }

    /// An array count; every element takes at least one byte, so a count over the bytes left is an error
    /// before anything is allocated.
    @inlinable
    public mutating func readKafkaArrayCount(_ field: StaticString, compact: Bool, nullable: Bool) throws(KafkaWireError) -> Int? {
        try readLength(field, compact: compact, wide: true, nullable: nullable, bytesPerUnit: 1)
    }

    /// Reads a tagged-field section, handing each known tag's body to `known` and keeping unknown ones.
    /// `known` returns false for tags it does not know. A known tag's body must be consumed exactly.
    @inlinable
    public mutating func readTaggedFields(
        _ field: StaticString,
        unknown: inout [UnknownTaggedField],
        known: (UInt32, inout ByteBuffer) throws(KafkaWireError) -> Bool
    ) throws(KafkaWireError) {
        let count = try readUnsignedVarint(field)
        if count == 0 { return }
        if Int(count) > readableBytes {
            throw KafkaWireError(.lengthExceedsFrame(claimed: Int64(count), available: readableBytes), field: field)
        }
        var previous: Int64 = -1
        for _ in 0..<count {
            let tag = try readUnsignedVarint(field)
            guard Int64(tag) > previous else { throw KafkaWireError(.invalidTaggedField(tag: tag), field: field) }
            previous = Int64(tag)
            let size = try readUnsignedVarint(field)
            guard var body = readSlice(length: Int(size)) else {
                throw KafkaWireError(.lengthExceedsFrame(claimed: Int64(size), available: readableBytes), field: field)
            }
            if try known(tag, &body) {
                guard body.readableBytes == 0 else { throw KafkaWireError(.invalidTaggedField(tag: tag), field: field) }
            } else {
                unknown.append(UnknownTaggedField(tag: tag, data: body))
            }
        }
    }
}
