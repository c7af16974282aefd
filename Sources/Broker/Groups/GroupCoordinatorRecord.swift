import MartletProtocol

/// One record of `__consumer_offsets`, as Kafka writes it: a committed offset or a classic group's metadata,
/// keyed so that compaction keeps the latest per key. A nil value is a tombstone (offset or group deleted).
public enum GroupCoordinatorRecord: Sendable, Equatable {
    case offsetCommit(OffsetCommitKey, OffsetCommitValue?)
    case groupMetadata(GroupMetadataKey, GroupMetadataValue?)

    /// The group the record belongs to: records of one group go to the same partition.
    public var groupId: String {
        switch self {
        case .offsetCommit(let key, _): key.group
        case .groupMetadata(let key, _): key.group
        }
    }

    public var isTombstone: Bool {
        switch self {
        case .offsetCommit(_, let value): value == nil
        case .groupMetadata(_, let value): value == nil
        }
    }

    static func offset(_ group: String, _ topic: String, _ partition: Int32, _ value: CommittedOffset?) -> GroupCoordinatorRecord {
        .offsetCommit(OffsetCommitKey(group: group, topic: topic, partition: partition), value?.recordValue)
    }

    static func groupTombstone(_ group: String) -> GroupCoordinatorRecord {
        .groupMetadata(GroupMetadataKey(group: group), nil)
    }
}
