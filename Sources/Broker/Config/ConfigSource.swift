/// Where a config value comes from, with Kafka's numbers (`DescribeConfigsResponse.ConfigSource`).
public enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case dynamicTopicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
}

/// A config value as DescribeConfigs reports it: the effective value, its source, and the synonyms it was
/// chosen from in precedence order.
public struct ResolvedConfig: Sendable {
    public struct Synonym: Sendable {
        public var name: String
        public var value: String?
        public var source: ConfigSource
    }

    public var definition: ConfigDefinition
    public var value: String?
    public var source: ConfigSource
    public var synonyms: [Synonym]
    public var isSensitive: Bool { definition.type == .password }
}

extension BrokerConfig {
    /// Every topic config for a topic with `overrides`: the topic's value, else the broker's, else Kafka's.
    public func resolveTopicConfigs(_ overrides: [String: String]) -> [ResolvedConfig] {
        TopicConfigKeys.all.map { definition in
            var synonyms: [ResolvedConfig.Synonym] = []
            if let value = overrides[definition.name] {
                synonyms.append(.init(name: definition.name, value: value, source: .dynamicTopicConfig))
            }
            for synonym in definition.brokerSynonyms {
                if let value = explicit[synonym] {
                    synonyms.append(.init(name: synonym, value: value, source: .staticBrokerConfig))
                }
            }
            let defaultName = definition.brokerSynonyms.first(where: { BrokerConfigKeys.byName[$0]?.defaultValue != nil }) ?? definition.name
            let defaultValue = BrokerConfigKeys.byName[defaultName]?.defaultValue ?? definition.defaultValue
            synonyms.append(.init(name: defaultName, value: defaultValue, source: .defaultConfig))
            let value = overrides[definition.name] ?? topicDefault(definition)
            let source: ConfigSource = overrides[definition.name] != nil ? .dynamicTopicConfig
                : (definition.brokerSynonyms.contains { explicit[$0] != nil } ? .staticBrokerConfig : .defaultConfig)
            return ResolvedConfig(definition: definition, value: value, source: source, synonyms: synonyms)
        }
    }

    /// Every broker config: set in server.properties or on the command line (static), else the default.
    public func resolveBrokerConfigs() -> [ResolvedConfig] {
        BrokerConfigKeys.all.map { definition in
            var synonyms: [ResolvedConfig.Synonym] = []
            if let value = explicit[definition.name] {
                synonyms.append(.init(name: definition.name, value: value, source: .staticBrokerConfig))
            }
            if let defaultValue = definition.defaultValue {
                synonyms.append(.init(name: definition.name, value: defaultValue, source: .defaultConfig))
            }
            return ResolvedConfig(
                definition: definition, value: value(definition.name),
                source: explicit[definition.name] != nil ? .staticBrokerConfig : .defaultConfig, synonyms: synonyms)
        }
    }
}
