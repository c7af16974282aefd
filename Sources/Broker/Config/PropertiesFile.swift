/// Java `.properties` files, as Kafka reads `server.properties`: `key=value` or `key: value` or `key value`,
/// `#` and `!` comments, `\` line continuations, and the usual escapes.
public enum PropertiesFile {
    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> [(key: String, value: String, line: Int)] {
        var entries: [(key: String, value: String, line: Int)] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        var index = 0
        while index < lines.count {
            let startLine = index + 1
            var logical = trimLeading(lines[index])
            index += 1
            if logical.isEmpty || logical.hasPrefix("#") || logical.hasPrefix("!") { continue }
            while endsWithContinuation(logical) && index < lines.count {
                logical.removeLast()
                logical += trimLeading(lines[index])
                index += 1
            }
            let (key, value) = try split(logical, line: startLine)
            entries.append((key, value, startLine))
        }
        return entries
    }

    private static func trimLeading(_ text: String) -> String {
        String(text.drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }))
    }

    /// An odd number of trailing backslashes continues the line.
    private static func endsWithContinuation(_ text: String) -> Bool {
        var count = 0
        for character in text.reversed() {
            guard character == "\\" else { break }
            count += 1
        }
        return count % 2 == 1
    }

    private static func split(_ logical: String, line: Int) throws(ParseError) -> (String, String) {
        var key = ""
        var characters = Array(logical)[...]
        while let character = characters.first {
            if character == "\\" {
                characters = characters.dropFirst()
                key.append(try unescape(&characters, line: line))
                continue
            }
            if character == "=" || character == ":" || character == " " || character == "\t" { break }
            key.append(character)
            characters = characters.dropFirst()
        }
        // Separator: whitespace, then at most one '=' or ':', then whitespace.
        while let first = characters.first, first == " " || first == "\t" { characters = characters.dropFirst() }
        if let first = characters.first, first == "=" || first == ":" { characters = characters.dropFirst() }
        while let first = characters.first, first == " " || first == "\t" { characters = characters.dropFirst() }
        var value = ""
        while let character = characters.first {
            characters = characters.dropFirst()
            if character == "\\" {
                value.append(try unescape(&characters, line: line))
            } else {
                value.append(character)
            }
        }
        return (key, value)
    }

    private static func unescape(_ characters: inout ArraySlice<Character>, line: Int) throws(ParseError) -> Character {
        guard let escaped = characters.popFirst() else { return "\\" }
        switch escaped {
        case "t": return "\t"
        case "n": return "\n"
        case "r": return "\r"
        case "f": return "\u{0C}"
        case "u":
            let digits = String(characters.prefix(4))
            guard digits.count == 4, let scalar = UInt32(digits, radix: 16).flatMap(Unicode.Scalar.init) else {
                throw ParseError(line: line, message: "malformed \\u escape")
            }
            characters = characters.dropFirst(4)
            return Character(scalar)
        default: return escaped
        }
    }
}
