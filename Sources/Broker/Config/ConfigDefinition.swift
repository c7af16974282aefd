/// One configuration key as Kafka defines it: name, type, default, the values it accepts, and its doc.
/// The broker's and topics' keys are tables of these (`BrokerConfigKeys`, `TopicConfigKeys`), which drive
/// parsing, validation and DescribeConfigs alike.
public struct ConfigDefinition: Sendable {
    public enum ValueType: String, Sendable {
        case boolean, int, long, double, string, list, password

        /// The `ConfigType` number DescribeConfigs v3+ reports (Kafka's `DescribeConfigsResponse.ConfigType`).
        public var describeConfigsType: Int8 {
            switch self {
            case .boolean: 1
            case .string: 2
            case .int: 3
            case .long: 5
            case .double: 6
            case .list: 7
            case .password: 9
            }
        }
    }

    public enum Validator: Sendable {
        case atLeast(Int64)
        case between(Int64, Int64)
        case oneOf([String])
        /// A comma-separated list whose items are each one of these.
        case listOf([String])
        case nonEmpty
        /// Returns nil when the value is acceptable, else why not.
        case custom(@Sendable (String) -> String?)
    }

    public var name: String
    public var type: ValueType
    /// The default as text, nil when the key has none (null).
    public var defaultValue: String?
    public var validator: Validator?
    public var documentation: String
    /// Broker keys this topic key falls back to, most specific first (DescribeConfigs synonyms).
    public var brokerSynonyms: [String]

    public init(
        _ name: String, _ type: ValueType, default defaultValue: String?, _ validator: Validator? = nil,
        synonyms: [String] = [], doc: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.validator = validator
        self.documentation = doc
        self.brokerSynonyms = synonyms
    }

    /// Checks `value` against the type and validator; the error says what is wrong, naming the key.
    public func validate(_ value: String) throws(ConfigError) {
        let trimmed = value.trimmingWhitespace
        switch type {
        case .boolean:
            guard ["true", "false"].contains(trimmed.lowercased()) else { throw ConfigError.invalidValue(name, value, "expected true or false") }
        case .int:
            guard let number = Int32(trimmed) else { throw ConfigError.invalidValue(name, value, "expected a 32-bit integer") }
            try check(Int64(number), value)
        case .long:
            guard let number = Int64(trimmed) else { throw ConfigError.invalidValue(name, value, "expected a 64-bit integer") }
            try check(number, value)
        case .double:
            guard Double(trimmed) != nil else { throw ConfigError.invalidValue(name, value, "expected a number") }
        case .string, .password, .list:
            switch validator {
            case .oneOf(let allowed)?:
                guard allowed.contains(trimmed) else {
                    throw ConfigError.invalidValue(name, value, "expected one of \(allowed.joined(separator: ", "))")
                }
            case .listOf(let allowed)?:
                let items = trimmed.split(separator: ",").map { String($0).trimmingWhitespace }
                guard !items.isEmpty, items.allSatisfy(allowed.contains) else {
                    throw ConfigError.invalidValue(name, value, "expected a list of \(allowed.joined(separator: ", "))")
                }
            case .nonEmpty?:
                guard !trimmed.isEmpty else { throw ConfigError.invalidValue(name, value, "must not be empty") }
            case .custom(let check)?:
                if let problem = check(trimmed) { throw ConfigError.invalidValue(name, value, problem) }
            default:
                break
            }
        }
    }

    private func check(_ number: Int64, _ value: String) throws(ConfigError) {
        switch validator {
        case .atLeast(let minimum)? where number < minimum:
            throw ConfigError.invalidValue(name, value, "must be at least \(minimum)")
        case .between(let low, let high)? where number < low || number > high:
            throw ConfigError.invalidValue(name, value, "must be between \(low) and \(high)")
        default:
            break
        }
    }
}

/// A configuration problem, said in one line that names the key.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case invalidValue(String, String, String)
    case missing(String)
    case file(String, String)

    public var description: String {
        switch self {
        case .unknownKey(let key): "unknown configuration '\(key)'"
        case .invalidValue(let key, let value, let why): "invalid value '\(value)' for configuration \(key): \(why)"
        case .missing(let key): "missing required configuration \(key)"
        case .file(let path, let why): "cannot read configuration file \(path): \(why)"
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
