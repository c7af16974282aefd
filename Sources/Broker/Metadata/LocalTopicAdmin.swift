import MartletProtocol

/// Topic administration on a single node, where this broker owns the topic metadata
/// (`LocalMetadataStore`): DeleteTopics, CreatePartitions and the config changes act on the local file and
/// logs. Under the controllers those requests go to the active controller whole instead
/// (`ForwardingHandler`), so only a single node has one of these.
struct LocalTopicAdmin: Sendable {
    let core: BrokerCore
    let store: LocalMetadataStore

    func deleteTopic(name: String) async -> Result<TopicMetadata, BrokerError> {
        do throws(BrokerError) {
            let deleted = try await store.deleteTopic(named: name)
            await core.replicas.removePartitions(of: name)
            core.logger.info("deleted topic \(name)")
            return .success(deleted)
        } catch {
            return .failure(error)
        }
    }

    /// CreatePartitions: grows `name` to `count` partitions (never shrinks).
    func growTopic(name: String, to count: Int32, validateOnly: Bool) async -> Result<TopicMetadata, BrokerError> {
        guard let topic = await store.topic(named: name) else {
            return .failure(BrokerError(.unknownTopicOrPartition, "The topic '\(name)' does not exist."))
        }
        guard count > topic.partitionCount else {
            let message = count == topic.partitionCount
                ? "Topic already has \(count) partitions."
                : "Topic currently has \(topic.partitionCount) partitions, which is higher than the requested \(count)."
            return .failure(BrokerError(.invalidPartitions, message))
        }
        if validateOnly { return .success(topic) }
        do {
            let grown = try await store.setPartitionCount(count, of: name)
            try core.replicas.ensurePartitions(of: grown, indexes: await store.hostedPartitions(of: grown))
            core.logger.info("topic \(name) now has \(count) partitions")
            return .success(grown)
        } catch let error as BrokerError {
            return .failure(error)
        } catch {
            return .failure(BrokerError(.kafkaStorageError, "cannot create the logs of \(name): \(error)"))
        }
    }

    /// Alters a topic's config overrides: `change` maps the current overrides to the new ones, which are
    /// validated before anything is stored. Nil on success, else the error for the resource.
    func alterTopicConfigs(
        resourceType: Int8, name: String, validateOnly: Bool,
        change: ([String: String]) throws(BrokerError) -> [String: String]
    ) async -> BrokerError? {
        if resourceType == ConfigResourceType.broker.rawValue {
            return BrokerError(.invalidRequest, "Broker configs are static in this server: set them in server.properties and restart.")
        }
        guard resourceType == ConfigResourceType.topic.rawValue else {
            return BrokerError(.invalidRequest, "Unsupported resource type \(resourceType)")
        }
        guard let topic = await store.topic(named: name) else {
            return BrokerError(.unknownTopicOrPartition, "Topic \(name) does not exist.")
        }
        do throws(BrokerError) {
            let configs = try change(topic.configs)
            for (key, value) in configs {
                guard let definition = TopicConfigKeys.byName[key] else {
                    throw BrokerError(.invalidConfig, "Unknown topic config name: \(key)")
                }
                do {
                    try definition.validate(value)
                } catch {
                    throw BrokerError(.invalidConfig, error.description)
                }
            }
            if validateOnly { return nil }
            let altered = try await store.setConfigs(configs, of: name)
            await core.replicas.reconfigure(altered)
            return nil
        } catch {
            return error
        }
    }
}
