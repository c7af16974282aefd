import MartletProtocol

/// A committed offset as `__consumer_offsets` keeps it (Kafka's `OffsetAndMetadata`).
public struct CommittedOffset: Sendable, Equatable {
    public var offset: Int64
    /// The leader epoch of the committed record, -1 if the client did not say.
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64
    /// Only from OffsetCommit v2-4 with an explicit retention time: when the offset expires, instead of
    /// `offsets.retention.minutes` after the group went Empty.
    public var expireTimestampMs: Int64?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestampMs: Int64, expireTimestampMs: Int64? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
        self.expireTimestampMs = expireTimestampMs
    }

    public init(_ value: OffsetCommitValue) {
        self.init(
            offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata,
            commitTimestampMs: value.commitTimestamp,
            expireTimestampMs: value.expireTimestamp == -1 ? nil : value.expireTimestamp)
    }

    public var recordValue: OffsetCommitValue {
        OffsetCommitValue(
            offset: offset, leaderEpoch: leaderEpoch, metadata: metadata, commitTimestamp: commitTimestampMs,
            expireTimestamp: expireTimestampMs ?? -1)
    }

    /// The value version Kafka writes: 1 when an expire timestamp must be kept (only v1 has the field),
    /// else 3, the highest non-flexible one.
    public var recordValueVersion: Int16 { expireTimestampMs == nil ? 3 : 1 }
}

/// Committed offsets by group, topic and partition.
public struct CommittedOffsets: Sendable, Equatable {
    public private(set) var byGroup: [String: [String: [Int32: CommittedOffset]]] = [:]

    public init() {}

    public subscript(group: String, topic: String, partition: Int32) -> CommittedOffset? {
        get { byGroup[group]?[topic]?[partition] }
        set {
            if let newValue {
                byGroup[group, default: [:]][topic, default: [:]][partition] = newValue
            } else if byGroup[group]?[topic]?[partition] != nil {
                byGroup[group]![topic]![partition] = nil
                if byGroup[group]![topic]!.isEmpty { byGroup[group]![topic] = nil }
                if byGroup[group]!.isEmpty { byGroup[group] = nil }
            }
        }
    }

    public func hasOffsets(for group: String) -> Bool { byGroup[group] != nil }

    /// The group's offsets, topics and partitions in order (deterministic answers and records).
    public func offsets(for group: String) -> [(topic: String, partition: Int32, offset: CommittedOffset)] {
        guard let topics = byGroup[group] else { return [] }
        return topics.keys.sorted().flatMap { topic in
            topics[topic]!.keys.sorted().map { (topic, $0, topics[topic]![$0]!) }
        }
    }

    public var count: Int { byGroup.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
}
