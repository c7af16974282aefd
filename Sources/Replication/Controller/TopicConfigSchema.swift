/// The topic config keys the controller accepts, supplied by the caller: the broker module owns the
/// config table (`TopicConfigKeys`) and the replication module must not depend on it.
public struct TopicConfigSchema: Sendable {
    /// One key: whether it is a list (so APPEND and SUBTRACT apply), the value it starts from when unset
    /// (APPEND onto an unset `cleanup.policy` starts from `delete`), and a check of a proposed value.
    public struct Key: Sendable {
        public var isList: Bool
        public var defaultValue: String?
        /// Nil if `value` is acceptable, else why not (the INVALID_CONFIG message).
        public var problem: @Sendable (_ value: String) -> String?

        public init(isList: Bool = false, defaultValue: String? = nil, problem: @escaping @Sendable (_ value: String) -> String? = { _ in nil }) {
            self.isList = isList
            self.defaultValue = defaultValue
            self.problem = problem
        }
    }

    public var keys: [String: Key]

    public init(keys: [String: Key]) {
        self.keys = keys
    }

    /// Nil if `name = value` is a valid topic config, else the INVALID_CONFIG message.
    func problem(name: String, value: String) -> String? {
        guard let key = keys[name] else { return "Unknown topic config name: \(name)" }
        return key.problem(value).map { "Invalid value \(value) for configuration \(name): \($0)" }
    }
}
