import NIOCore

/// Arrays, nullable structs and tagged-field sections: the composite encodings the generated code uses.
extension ByteBuffer {
    @inlinable
    public mutating func readKafkaArray<Element>(
        _ field: StaticString, compact: Bool,
        element: (inout ByteBuffer) throws(KafkaWireError) -> Element
    ) throws(KafkaWireError) -> [Element] {
        let count = try readKafkaArrayCount(field, compact: compact, nullable: false)!
        return try readKafkaElements(count: count, element: element)
    }

    @inlinable
    public mutating func readKafkaNullableArray<Element>(
        _ field: StaticString, compact: Bool, nullable: Bool,
        element: (inout ByteBuffer) throws(KafkaWireError) -> Element
    ) throws(KafkaWireError) -> [Element]? {
        guard let count = try readKafkaArrayCount(field, compact: compact, nullable: nullable) else { return nil }
        return try readKafkaElements(count: count, element: element)
    }

    @inlinable
    mutating func readKafkaElements<Element>(
        count: Int, element: (inout ByteBuffer) throws(KafkaWireError) -> Element
    ) throws(KafkaWireError) -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try element(&self)) }
        return elements
    }

    /// A nullable struct: an int8 marker (-1 null, 1 present) before the struct, in versions that allow null.
    @inlinable
    public mutating func readKafkaNullableStruct<Value>(
        _ field: StaticString, nullable: Bool,
        value: (inout ByteBuffer) throws(KafkaWireError) -> Value
    ) throws(KafkaWireError) -> Value? {
        if nullable {
            if try readKafkaInt8(field) < 0 { return nil }
        }
        return try value(&self)
    }

    @inlinable
    public mutating func writeKafkaArray<Element>(
        _ elements: [Element], compact: Bool,
        element: (inout ByteBuffer, Element) throws(KafkaWireError) -> Void
    ) throws(KafkaWireError) {
        writeKafkaArrayCount(elements.count, compact: compact)
        for item in elements { try element(&self, item) }
    }

    @inlinable
    public mutating func writeKafkaNullableArray<Element>(
        _ elements: [Element]?, compact: Bool, nullable: Bool, _ field: StaticString,
        element: (inout ByteBuffer, Element) throws(KafkaWireError) -> Void
    ) throws(KafkaWireError) {
        guard let elements else {
            guard nullable else { throw KafkaWireError(.unexpectedNull, field: field) }
            return writeKafkaArrayCount(nil, compact: compact)
        }
        try writeKafkaArray(elements, compact: compact, element: element)
    }

    @inlinable
    public mutating func writeKafkaNullableStruct<Value>(
        _ value: Value?, nullable: Bool, _ field: StaticString,
        body: (inout ByteBuffer, Value) throws(KafkaWireError) -> Void
    ) throws(KafkaWireError) {
        guard let value else {
            guard nullable else { throw KafkaWireError(.unexpectedNull, field: field) }
            writeInteger(-1 as Int8)
            return
        }
        if nullable { writeInteger(1 as Int8) }
        try body(&self, value)
    }

    /// A whole tagged-field section holding only unknown fields.
    @inlinable
    public mutating func writeUnknownTaggedFields(_ fields: [UnknownTaggedField]) {
        writeUnsignedVarint(UInt32(fields.count))
        for field in fields {
            writeUnsignedVarint(field.tag)
            writeUnsignedVarint(UInt32(field.data.readableBytes))
            writeImmutableBuffer(field.data)
        }
    }

    /// Writes the unknown fields from `index` on whose tag is below `limit` (all remaining when nil), so that
    /// known and unknown tags come out in ascending order together.
    @inlinable
    public mutating func writeUnknownTaggedFields(_ fields: [UnknownTaggedField], below limit: UInt32?, index: inout Int) {
        while index < fields.count, limit.map({ fields[index].tag < $0 }) ?? true {
            let field = fields[index]
            writeUnsignedVarint(field.tag)
            writeUnsignedVarint(UInt32(field.data.readableBytes))
            writeImmutableBuffer(field.data)
            index += 1
        }
    }
}

extension KafkaSize {
    @inlinable
    public static func array<Element>(_ elements: [Element], compact: Bool, elementSize: Int) -> Int {
        arrayCount(elements.count, compact: compact) + elements.count * elementSize
    }

    @inlinable
    public static func array<Element>(_ elements: [Element], compact: Bool, element: (Element) -> Int) -> Int {
        var size = arrayCount(elements.count, compact: compact)
        for item in elements { size += element(item) }
        return size
    }

    @inlinable
    public static func nullableArray<Element>(_ elements: [Element]?, compact: Bool, elementSize: Int) -> Int {
        guard let elements else { return arrayCount(nil, compact: compact) }
        return array(elements, compact: compact, elementSize: elementSize)
    }

    @inlinable
    public static func nullableArray<Element>(_ elements: [Element]?, compact: Bool, element: (Element) -> Int) -> Int {
        guard let elements else { return arrayCount(nil, compact: compact) }
        return array(elements, compact: compact, element: element)
    }

    /// The size of a tagged-field section with `knownCount` known fields of `knownSize` bytes in all, plus
    /// the unknown ones.
    @inlinable
    public static func unknownTaggedFields(_ fields: [UnknownTaggedField], knownCount: Int, knownSize: Int) -> Int {
        var size = knownSize
        for field in fields { size += taggedField(tag: field.tag, bodySize: field.data.readableBytes) }
        return unsignedVarint(UInt32(fields.count + knownCount)) + size
    }
}

extension KafkaWireError {
    /// The value of an optional field in a version where the spec does not allow null.
    @inlinable
    public static func requireNonNull<Value>(_ value: Value?, _ field: StaticString) throws(KafkaWireError) -> Value {
        guard let value else { throw KafkaWireError(.unexpectedNull, field: field) }
        return value
    }
}
