import MartletProtocol

/// A topic and its partitions as the metadata log describes them.
public struct TopicImage: Hashable, Sendable {
    public var id: KafkaUUID
    public var name: String
    public var partitions: [Int32: PartitionRegistration]
}

/// One partition's replica set and leadership. Every change bumps `partitionEpoch`; a change of leader
/// also bumps `leaderEpoch` (`PartitionRegistration.merge`), which is what fences a deposed leader.
public struct PartitionRegistration: Hashable, Sendable {
    public var replicas: [Int32]
    public var isr: [Int32]
    /// The leading broker, or -1 when no replica in the ISR is available.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var partitionEpoch: Int32

    /// Kafka's "no leader" marker.
    public static let noLeader: Int32 = -1
}
