/// Swift names for spec names.
enum Naming {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
        "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
        "where", "while", "as", "false", "is", "nil", "self", "super", "throws", "true", "try", "Type",
    ]

    /// "TopicId" -> "topicId", "ISRChange" -> "isrChange", "group" -> "group"; keywords get backticks.
    static func property(_ specName: String) -> String {
        let characters = Array(specName)
        var upperRun = 0
        while upperRun < characters.count && characters[upperRun].isUppercase { upperRun += 1 }
        let lowered: String
        if upperRun <= 1 || upperRun == characters.count {
            lowered = String(characters.prefix(max(upperRun, 1))).lowercased() + String(characters.dropFirst(max(upperRun, 1)))
        } else {
            lowered = String(characters.prefix(upperRun - 1)).lowercased() + String(characters.dropFirst(upperRun - 1))
        }
        return keywords.contains(lowered) ? "`\(lowered)`" : lowered
    }

    /// The property name without backticks, for use inside other identifiers.
    static func bare(_ specName: String) -> String {
        property(specName).replacingOccurrences(of: "`", with: "")
    }

    /// A Swift string literal.
    static func literal(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.isASCII && scalar.value >= 0x20 { out.unicodeScalars.append(scalar) } else { out += "\\u{\(String(scalar.value, radix: 16))}" }
            }
        }
        return out + "\""
    }

    /// Doc-comment lines for a text, wrapped at about 110 columns.
    static func docLines(_ text: String?, indent: String) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.count + word.count + 1 > 110 && !current.isEmpty {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines.map { "\(indent)/// \($0)" }
    }
}
