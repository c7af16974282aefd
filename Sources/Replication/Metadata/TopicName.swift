/// Kafka's rules for topic names (`org.apache.kafka.common.internals.Topic.validate`).
public enum TopicName {
    public static let maximumLength = 249

    /// Nil when `name` is a legal topic name, else why it is not (for INVALID_TOPIC_EXCEPTION's message).
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "Topic name is illegal, it can't be empty" }
        if name == "." || name == ".." { return "Topic name cannot be \".\" or \"..\"" }
        if name.utf8.count > maximumLength {
            return "Topic name is illegal, it can't be longer than \(maximumLength) characters, topic name: \(name)"
        }
        let legal = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        if !legal {
            return "Topic name \"\(name)\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        }
        return nil
    }

    /// '.' and '_' collide in metric names, so Kafka refuses a topic that differs from an existing one only there.
    public static func collides(_ name: String, with other: String) -> Bool {
        name != other && name.replacingDotsWithUnderscores == other.replacingDotsWithUnderscores
    }
}

extension String {
    fileprivate var replacingDotsWithUnderscores: String { String(map { $0 == "." ? "_" : $0 }) }
}
