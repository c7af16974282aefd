import Foundation

/// Reads Kafka's spec files: JSON with `//` line comments, which carry the version history.
enum SpecLoader {
    /// Splits a spec file into its comments (outside strings, after the licence header) and plain JSON.
    static func stripComments(_ text: String) -> (json: String, comments: [String]) {
        var json = ""
        var comments: [String] = []
        var seenBrace = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var inString = false
            var escaped = false
            var cut: String.Index?
            var index = line.startIndex
            while index < line.endIndex {
                let character = line[index]
                if escaped {
                    escaped = false
                } else if character == "\\" && inString {
                    escaped = true
                } else if character == "\"" {
                    inString.toggle()
                } else if !inString && character == "{" {
                    seenBrace = true
                } else if !inString && character == "/" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "/" {
                        cut = index
                        break
                    }
                }
                index = line.index(after: index)
            }
            if let cut {
                json += line[..<cut] + "\n"
                let comment = line[line.index(cut, offsetBy: 2)...]
                let isTopLevel = line[..<cut].trimmingCharacters(in: .whitespaces).isEmpty
                if seenBrace && isTopLevel {
                    comments.append(comment.hasPrefix(" ") ? String(comment.dropFirst()) : String(comment))
                }
            } else {
                json += line + "\n"
            }
        }
        return (json, comments)
    }

    static func load(path: String, relativePath: String) throws -> MessageSpec {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let (json, comments) = stripComments(text)
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw GeneratorError("\(relativePath): not a JSON object")
        }
        guard let name = object["name"] as? String,
              let kindText = object["type"] as? String,
              let kind = MessageKind(rawValue: kindText)
        else { throw GeneratorError("\(relativePath): missing name or type") }
        let valid = try VersionRange(parsing: object["validVersions"] as? String ?? "", in: "\(name).validVersions")
        let flexible = try VersionRange(parsing: object["flexibleVersions"] as? String ?? "none", in: "\(name).flexibleVersions")
        let root = StructSpec(
            name: name,
            about: nil,
            fields: try parseFields(object["fields"] as? [[String: Any]] ?? [], path: name)
        )
        let common = try (object["commonStructs"] as? [[String: Any]] ?? []).map { structure -> StructSpec in
            guard let structName = structure["name"] as? String else { throw GeneratorError("\(name): unnamed common struct") }
            return StructSpec(
                name: structName,
                about: nil,
                fields: try parseFields(structure["fields"] as? [[String: Any]] ?? [], path: "\(name).\(structName)")
            )
        }
        return MessageSpec(
            name: name, kind: kind, apiKey: object["apiKey"] as? Int, validVersions: valid,
            flexibleVersions: flexible, comments: comments, root: root, commonStructs: common,
            sourcePath: relativePath
        )
    }

    static func parseFields(_ list: [[String: Any]], path: String) throws -> [FieldSpec] {
        try list.map { field in
            guard let name = field["name"] as? String, let typeText = field["type"] as? String else {
                throw GeneratorError("\(path): field without name or type")
            }
            let context = "\(path).\(name)"
            let versions = try VersionRange(parsing: field["versions"] as? String ?? "none", in: context)
            let type = FieldType(parsing: typeText)
            var declared: StructSpec?
            if let nested = field["fields"] as? [[String: Any]] {
                let structName: String
                switch type {
                case .structure(let n), .array(.structure(let n)): structName = n
                default: throw GeneratorError("\(context): fields on a non-struct type")
                }
                declared = StructSpec(
                    name: structName, about: field["about"] as? String,
                    fields: try parseFields(nested, path: context)
                )
            }
            let defaultValue: String?
            switch field["default"] {
            case let text as String: defaultValue = text
            case let number as NSNumber:
                defaultValue = type == .bool ? (number.boolValue ? "true" : "false") : number.stringValue
            default: defaultValue = nil
            }
            return FieldSpec(
                name: name,
                type: type,
                versions: versions,
                nullableVersions: try VersionRange(parsing: field["nullableVersions"] as? String ?? "none", in: context),
                taggedVersions: try VersionRange(parsing: field["taggedVersions"] as? String ?? "none", in: context),
                tag: field["tag"] as? Int,
                flexibleVersions: try (field["flexibleVersions"] as? String).map { try VersionRange(parsing: $0, in: context) },
                defaultValue: defaultValue,
                about: field["about"] as? String,
                declaredStruct: declared
            )
        }
    }
}
