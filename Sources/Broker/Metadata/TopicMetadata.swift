import MartletProtocol

/// A topic as the broker knows it: id, partition count, replication factor and its own config overrides.
public struct TopicMetadata: Hashable, Sendable, Codable {
    public var name: String
    public var id: KafkaUUID
    public var partitionCount: Int32
    public var replicationFactor: Int16
    /// Topic-level overrides only (DYNAMIC_TOPIC_CONFIG); everything else resolves to the broker's defaults.
    public var configs: [String: String]

    public init(name: String, id: KafkaUUID, partitionCount: Int32, replicationFactor: Int16, configs: [String: String]) {
        self.name = name
        self.id = id
        self.partitionCount = partitionCount
        self.replicationFactor = replicationFactor
        self.configs = configs
    }

    /// Internal topics (`__consumer_offsets`, `__transaction_state`) are flagged as such in Metadata.
    public var isInternal: Bool { name == "__consumer_offsets" || name == "__transaction_state" }
}

extension KafkaUUID: Codable {
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        self.init(mostSignificantBits: try container.decode(UInt64.self), leastSignificantBits: try container.decode(UInt64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(mostSignificantBits)
        try container.encode(leastSignificantBits)
    }
}

/// A topic and partition, the key of everything per partition.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Kafka's directory name for the partition's log: `<topic>-<partition>`.
    public var directoryName: String { "\(topic)-\(partition)" }
    public var description: String { directoryName }
}
