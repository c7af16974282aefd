/// The parts of Kafka's message-spec JSON the generator uses (see spec/kafka/message/README.md upstream).

/// A version range as the specs write it: "0+", "3-13", "5" or "none".
struct VersionRange: Equatable {
    var lowest: Int
    /// nil means open-ended ("3+").
    var highest: Int?

    static let none = VersionRange(lowest: Int(Int16.max), highest: -1)

    init(lowest: Int, highest: Int?) {
        self.lowest = lowest
        self.highest = highest
    }

    init(parsing text: String, in context: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "none" {
            self = .none
        } else if text.hasSuffix("+"), let low = Int(text.dropLast()) {
            self.init(lowest: low, highest: nil)
        } else if let dash = text.firstIndex(of: "-"), let low = Int(text[..<dash]),
                  let high = Int(text[text.index(after: dash)...]) {
            self.init(lowest: low, highest: high)
        } else if let single = Int(text) {
            self.init(lowest: single, highest: single)
        } else {
            throw GeneratorError("\(context): cannot parse version range '\(text)'")
        }
    }

    var isEmpty: Bool { highest.map { $0 < lowest } ?? false }

    func contains(_ version: Int) -> Bool {
        version >= lowest && (highest.map { version <= $0 } ?? true)
    }

    func intersection(_ other: VersionRange) -> VersionRange {
        let low = max(lowest, other.lowest)
        switch (highest, other.highest) {
        case let (a?, b?): return VersionRange(lowest: low, highest: min(a, b))
        case let (a?, nil): return VersionRange(lowest: low, highest: a)
        case let (nil, b?): return VersionRange(lowest: low, highest: b)
        case (nil, nil): return VersionRange(lowest: low, highest: nil)
        }
    }

    /// True when every version in `valid` is inside this range.
    func covers(_ valid: VersionRange) -> Bool {
        guard !valid.isEmpty else { return true }
        let inter = intersection(valid)
        return inter.lowest == valid.lowest && inter.highest == valid.highest
    }

    /// True when no version in `valid` is inside this range.
    func isDisjoint(from valid: VersionRange) -> Bool { intersection(valid).isEmpty }

    /// A Swift condition on `version` that is true for the versions in `valid` that this range contains.
    func condition(within valid: VersionRange) -> String {
        if covers(valid) { return "true" }
        if isDisjoint(from: valid) { return "false" }
        let inter = intersection(valid)
        var parts: [String] = []
        if inter.lowest > valid.lowest { parts.append("version >= \(inter.lowest)") }
        if let high = inter.highest, high < (valid.highest ?? Int.max) { parts.append("version <= \(high)") }
        return parts.joined(separator: " && ")
    }
}

indirect enum FieldType: Equatable {
    case bool, int8, int16, int32, int64, uint16, uint32, float64
    case string, bytes, records, uuid
    case structure(String)
    case array(FieldType)

    init(parsing text: String) {
        if text.hasPrefix("[]") {
            self = .array(FieldType(parsing: String(text.dropFirst(2))))
            return
        }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        case "uuid": self = .uuid
        default: self = .structure(text)
        }
    }

    var isStruct: Bool { if case .structure = self { return true } else { return false } }
    var isArray: Bool { if case .array = self { return true } else { return false } }
}

struct FieldSpec {
    var name: String
    var type: FieldType
    var versions: VersionRange
    var nullableVersions: VersionRange
    var taggedVersions: VersionRange
    var tag: Int?
    /// A field-level override; RequestHeader's ClientId is "none" so that any broker can read it.
    var flexibleVersions: VersionRange?
    var defaultValue: String?
    var about: String?
    /// The nested struct this field declares inline, if any.
    var declaredStruct: StructSpec?

    var isNullable: Bool { !nullableVersions.isEmpty }
    var isTagged: Bool { tag != nil }
}

struct StructSpec {
    var name: String
    var about: String?
    var fields: [FieldSpec]
}

enum MessageKind: String {
    case request, response, header, data, metadata
}

struct MessageSpec {
    var name: String
    var kind: MessageKind
    var apiKey: Int?
    var validVersions: VersionRange
    var flexibleVersions: VersionRange
    var comments: [String]
    var root: StructSpec
    var commonStructs: [StructSpec]
    /// Where the file sits under spec/kafka, for the generated header.
    var sourcePath: String

    /// Every struct the message defines, the root first, then nested ones in declaration order.
    var allStructs: [StructSpec] {
        var result: [StructSpec] = [root]
        func collect(_ structure: StructSpec) {
            for field in structure.fields {
                if let nested = field.declaredStruct {
                    result.append(nested)
                    collect(nested)
                }
            }
        }
        collect(root)
        for common in commonStructs {
            result.append(common)
            collect(common)
        }
        return result
    }
}

struct GeneratorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Foundation
