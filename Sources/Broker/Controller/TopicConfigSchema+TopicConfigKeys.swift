import MartletReplication

extension TopicConfigSchema {
    /// The controller's topic config rules, taken from the broker's table (`TopicConfigKeys`) so that a
    /// config the controller accepts is one every broker can apply: the same names, list keys, defaults
    /// and value checks.
    static var topicConfigKeys: TopicConfigSchema {
        TopicConfigSchema(keys: Dictionary(uniqueKeysWithValues: TopicConfigKeys.all.map { definition in
            (definition.name, Key(isList: definition.type == .list, defaultValue: definition.defaultValue, problem: { value in
                do throws(ConfigError) {
                    try definition.validate(value)
                    return nil
                } catch .invalidValue(_, _, let why) {
                    return why
                } catch {
                    return "\(error)"
                }
            }))
        }))
    }
}
