/// Swift expressions for one field: its type, default, and how to read, write and size it.
///
/// `valid` is the message's valid version range: conditions on `version` are folded against it, so a field
/// present in every valid version reads without a check.
struct FieldCode {
    let field: FieldSpec
    let message: MessageSpec
    /// The dotted spec path used in error messages, e.g. "ProduceRequest.TopicData.Name".
    let path: String

    var valid: VersionRange { message.validVersions }
    var property: String { Naming.property(field.name) }
    var pathLiteral: String { Naming.literal(path) }

    var isOptional: Bool { field.isNullable }

    static func baseType(_ type: FieldType) -> String {
        switch type {
        case .bool: "Bool"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .uint16: "UInt16"
        case .uint32: "UInt32"
        case .float64: "Double"
        case .string: "String"
        case .bytes, .records: "ByteBuffer"
        case .uuid: "KafkaUUID"
        case .structure(let name): name
        case .array(let element): "[\(baseType(element))]"
        }
    }

    var swiftType: String { Self.baseType(field.type) + (isOptional ? "?" : "") }

    /// The value a field has when absent, as the spec's "default" says (Kafka's defaults otherwise).
    var defaultExpression: String {
        let explicit = field.defaultValue
        if isOptional && (explicit == "null" || field.type == .records) { return "nil" }
        switch field.type {
        case .bool: return explicit ?? "false"
        case .int8, .int16, .int32, .int64, .uint16, .uint32: return explicit ?? "0"
        case .float64: return explicit ?? "0"
        case .string: return Naming.literal(explicit ?? "")
        case .bytes, .records: return "ByteBuffer()"
        case .uuid: return ".zero"
        case .structure(let name): return "\(name)()"
        case .array: return "[]"
        }
    }

    /// Is the field written in the regular (untagged) part in some valid version?
    var regularVersions: VersionRange { field.isTagged ? .none : field.versions }

    /// The condition under which the field is written in the regular part.
    var regularCondition: String { regularVersions.condition(within: valid) }

    /// The condition under which the field is written as a tagged field.
    var taggedCondition: String {
        field.taggedVersions.intersection(field.versions).intersection(message.flexibleVersions).condition(within: valid)
    }

    var nullableCondition: String { field.nullableVersions.condition(within: valid) }

    /// Whether strings, bytes and arrays use the compact encoding. Tagged fields are always compact.
    func compactExpression(tagged: Bool) -> String {
        if tagged { return "true" }
        if let override = field.flexibleVersions { return override.condition(within: valid) }
        return "flexible"
    }

    // MARK: reading

    func readExpression(buffer: String, tagged: Bool) -> String {
        let compact = compactExpression(tagged: tagged)
        let nullable = nullableCondition
        switch field.type {
        case .array(let element):
            let elementRead = elementReadExpression(element, buffer: "element", compact: compact)
            let closure = "{ (element: inout ByteBuffer) throws(KafkaWireError) in \(elementRead) }"
            if isOptional {
                return "try \(buffer).readKafkaNullableArray(\(pathLiteral), compact: \(compact), nullable: \(nullable)) \(closure)"
            }
            return "try \(buffer).readKafkaArray(\(pathLiteral), compact: \(compact)) \(closure)"
        case .structure(let name):
            if isOptional {
                return "try \(buffer).readKafkaNullableStruct(\(pathLiteral), nullable: \(nullable)) { (inner: inout ByteBuffer) throws(KafkaWireError) in try \(name)(from: &inner, version: version) }"
            }
            return "try \(name)(from: &\(buffer), version: version)"
        case .string, .bytes, .records:
            let kind = field.type == .string ? "String" : "Bytes"
            if isOptional {
                switch nullable {
                case "true": return "try \(buffer).readKafkaNullable\(kind)(\(pathLiteral), compact: \(compact))"
                case "false": return "try \(buffer).readKafka\(kind)(\(pathLiteral), compact: \(compact))"
                default:
                    return "(\(nullable)) ? try \(buffer).readKafkaNullable\(kind)(\(pathLiteral), compact: \(compact)) : try \(buffer).readKafka\(kind)(\(pathLiteral), compact: \(compact))"
                }
            }
            return "try \(buffer).readKafka\(kind)(\(pathLiteral), compact: \(compact))"
        default:
            return primitiveRead(field.type, buffer: buffer)
        }
    }

    private func primitiveRead(_ type: FieldType, buffer: String) -> String {
        let method: String
        switch type {
        case .bool: method = "readKafkaBool"
        case .int8: method = "readKafkaInt8"
        case .int16: method = "readKafkaInt16"
        case .int32: method = "readKafkaInt32"
        case .int64: method = "readKafkaInt64"
        case .uint16: method = "readKafkaUInt16"
        case .uint32: method = "readKafkaUInt32"
        case .float64: method = "readKafkaFloat64"
        case .uuid: method = "readKafkaUUID"
        default: fatalError("not a primitive: \(type)")
        }
        return "try \(buffer).\(method)(\(pathLiteral))"
    }

    private func elementReadExpression(_ element: FieldType, buffer: String, compact: String) -> String {
        switch element {
        case .structure(let name): return "try \(name)(from: &\(buffer), version: version)"
        case .string: return "try \(buffer).readKafkaString(\(pathLiteral), compact: \(compact))"
        case .bytes, .records: return "try \(buffer).readKafkaBytes(\(pathLiteral), compact: \(compact))"
        case .array: fatalError("\(path): nested arrays are not in Kafka's specs")
        default: return primitiveRead(element, buffer: buffer)
        }
    }

    // MARK: writing

    /// Statements writing `value` (an expression of the field's Swift type) into `buffer`.
    func writeStatements(value: String, buffer: String, tagged: Bool) -> [String] {
        let compact = compactExpression(tagged: tagged)
        let nullable = nullableCondition
        switch field.type {
        case .array(let element):
            let elementWrite = elementWriteStatement(element, value: "element", buffer: "out", compact: compact)
            let closure = "{ (out: inout ByteBuffer, element) throws(KafkaWireError) in \(elementWrite) }"
            if isOptional {
                return ["try \(buffer).writeKafkaNullableArray(\(value), compact: \(compact), nullable: \(nullable), \(pathLiteral)) \(closure)"]
            }
            return ["try \(buffer).writeKafkaArray(\(value), compact: \(compact)) \(closure)"]
        case .structure:
            if isOptional {
                return ["try \(buffer).writeKafkaNullableStruct(\(value), nullable: \(nullable), \(pathLiteral)) { (out: inout ByteBuffer, inner) throws(KafkaWireError) in try inner.encode(into: &out, version: version) }"]
            }
            return ["try \(value).encode(into: &\(buffer), version: version)"]
        case .string, .bytes, .records:
            let kind = field.type == .string ? "String" : "Bytes"
            let fieldArgument = field.type == .string ? ", \(pathLiteral)" : ""
            let tryPrefix = field.type == .string ? "try " : ""
            if isOptional {
                switch nullable {
                case "true":
                    return ["\(tryPrefix)\(buffer).writeKafkaNullable\(kind)(\(value), compact: \(compact)\(fieldArgument))"]
                default:
                    let nonNull = "try KafkaWireError.requireNonNull(\(value), \(pathLiteral))"
                    let strict = "try \(buffer).writeKafka\(kind)(\(nonNull), compact: \(compact)\(fieldArgument))"
                    if nullable == "false" { return [strict] }
                    return [
                        "if \(nullable) { \(tryPrefix)\(buffer).writeKafkaNullable\(kind)(\(value), compact: \(compact)\(fieldArgument)) } else { \(strict) }",
                    ]
                }
            }
            return ["\(tryPrefix)\(buffer).writeKafka\(kind)(\(value), compact: \(compact)\(fieldArgument))"]
        default:
            return [primitiveWrite(field.type, value: value, buffer: buffer)]
        }
    }

    private func primitiveWrite(_ type: FieldType, value: String, buffer: String) -> String {
        switch type {
        case .bool: "\(buffer).writeKafkaBool(\(value))"
        case .float64: "\(buffer).writeKafkaFloat64(\(value))"
        case .uuid: "\(buffer).writeKafkaUUID(\(value))"
        case .int8, .int16, .int32, .int64, .uint16, .uint32: "\(buffer).writeInteger(\(value), endianness: .big)"
        default: fatalError("not a primitive: \(type)")
        }
    }

    private func elementWriteStatement(_ element: FieldType, value: String, buffer: String, compact: String) -> String {
        switch element {
        case .structure: return "try \(value).encode(into: &\(buffer), version: version)"
        case .string: return "try \(buffer).writeKafkaString(\(value), compact: \(compact), \(pathLiteral))"
        case .bytes, .records: return "\(buffer).writeKafkaBytes(\(value), compact: \(compact))"
        default: return primitiveWrite(element, value: value, buffer: buffer)
        }
    }

    // MARK: sizing

    static func fixedSize(_ type: FieldType) -> Int? {
        switch type {
        case .bool, .int8: 1
        case .int16, .uint16: 2
        case .int32, .uint32: 4
        case .int64, .float64: 8
        case .uuid: 16
        default: nil
        }
    }

    /// An expression for the encoded size of `value`.
    func sizeExpression(value: String, tagged: Bool) -> String {
        let compact = compactExpression(tagged: tagged)
        switch field.type {
        case .array(let element):
            let elementSize = elementSizeExpression(element, value: "element", compact: compact)
            let closure: String
            if let fixed = Self.fixedSize(element) {
                closure = "elementSize: \(fixed)"
                return isOptional
                    ? "KafkaSize.nullableArray(\(value), compact: \(compact), \(closure))"
                    : "KafkaSize.array(\(value), compact: \(compact), \(closure))"
            }
            closure = "{ element in \(elementSize) }"
            return isOptional
                ? "KafkaSize.nullableArray(\(value), compact: \(compact)) \(closure)"
                : "KafkaSize.array(\(value), compact: \(compact)) \(closure)"
        case .structure:
            if isOptional { return "1 + (\(value)?.size(version: version) ?? 0)" }
            return "\(value).size(version: version)"
        case .string:
            return isOptional ? "KafkaSize.nullableString(\(value), compact: \(compact))" : "KafkaSize.string(\(value), compact: \(compact))"
        case .bytes, .records:
            return isOptional ? "KafkaSize.nullableBytes(\(value), compact: \(compact))" : "KafkaSize.bytes(\(value), compact: \(compact))"
        default:
            return "\(Self.fixedSize(field.type)!)"
        }
    }

    private func elementSizeExpression(_ element: FieldType, value: String, compact: String) -> String {
        switch element {
        case .structure: "\(value).size(version: version)"
        case .string: "KafkaSize.string(\(value), compact: \(compact))"
        case .bytes, .records: "KafkaSize.bytes(\(value), compact: \(compact))"
        default: "\(Self.fixedSize(element)!)"
        }
    }
}
