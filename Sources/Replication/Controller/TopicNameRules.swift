/// Kafka's topic name rules (`org.apache.kafka.common.internals.Topic`), here because the controller,
/// which creates topics, lives in a module that cannot see the broker's copy.
enum TopicNameRules {
    static let maximumLength = 249

    /// Nil when `name` is a legal topic name, else the INVALID_TOPIC_EXCEPTION message.
    static func problem(with name: String) -> String? {
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

    /// '.' and '_' map to the same metric name, so Kafka refuses a topic differing from another only there.
    static func metricName(_ name: String) -> String {
        String(name.map { $0 == "." ? "_" : $0 })
    }
}
