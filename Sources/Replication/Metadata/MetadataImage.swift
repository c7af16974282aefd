import MartletProtocol

/// The cluster state that replaying the `__cluster_metadata` log in order builds: brokers, topics and
/// partitions, configs, finalized features and the producer-id high mark. Every node keeps one (brokers
/// from the committed log, the active controller also ahead of commit), and only `apply` changes it, so
/// two nodes that applied the same records hold equal images.
public struct MetadataImage: Hashable, Sendable {
    public private(set) var brokers: [Int32: BrokerRegistration] = [:]
    public private(set) var topicsById: [KafkaUUID: TopicImage] = [:]
    public private(set) var topicIdsByName: [String: KafkaUUID] = [:]
    /// Per resource, only the keys set explicitly; absent resources have no overrides.
    public private(set) var configs: [ConfigResource: [String: String]] = [:]
    /// Finalized feature levels (`metadata.version`, ...); a level of 0 removes the feature.
    public private(set) var features: [String: Int16] = [:]
    /// The first producer id of the next block AllocateProducerIds hands out.
    public private(set) var nextProducerId: Int64 = 0
    /// The log offset of the last record applied, -1 before any.
    public private(set) var lastAppliedOffset: Int64 = -1

    public init() {}

    public func topic(named name: String) -> TopicImage? {
        topicIdsByName[name].flatMap { topicsById[$0] }
    }

    public func partition(_ topicId: KafkaUUID, _ partition: Int32) -> PartitionRegistration? {
        topicsById[topicId]?.partitions[partition]
    }

    /// Brokers that may take leadership or new replicas, by id.
    public var activeBrokerIds: [Int32] {
        brokers.values.filter(\.isActive).map(\.id).sorted()
    }
}

/// Mutations for `MetadataImage+Apply.swift` only: the stored properties are `private(set)` so nothing
/// else writes them.
extension MetadataImage {
    mutating func setBroker(_ broker: BrokerRegistration?, id: Int32) { brokers[id] = broker }
    mutating func setTopic(_ topic: TopicImage) {
        topicsById[topic.id] = topic
        topicIdsByName[topic.name] = topic.id
    }
    mutating func removeTopic(_ topic: TopicImage) {
        topicsById[topic.id] = nil
        topicIdsByName[topic.name] = nil
        configs[ConfigResource(.topic, topic.name)] = nil
    }
    mutating func setConfig(_ resource: ConfigResource, _ name: String, _ value: String?) {
        var entries = configs[resource] ?? [:]
        entries[name] = value
        configs[resource] = entries.isEmpty ? nil : entries
    }
    mutating func setFeature(_ name: String, _ level: Int16) { features[name] = level == 0 ? nil : level }
    mutating func setNextProducerId(_ next: Int64) { nextProducerId = next }
    mutating func setLastAppliedOffset(_ offset: Int64) { lastAppliedOffset = offset }
}
