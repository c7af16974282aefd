/// The group coordinator's limits and timings, under Kafka's config names and with Kafka's defaults, so an
/// operator's `server.properties` means here what it means to Kafka.
public struct GroupCoordinatorConfig: Sendable, Equatable {
    /// `group.min.session.timeout.ms`: a JoinGroup asking for less gets INVALID_SESSION_TIMEOUT.
    public var minSessionTimeoutMs: Int32 = 6_000
    /// `group.max.session.timeout.ms`: a JoinGroup asking for more gets INVALID_SESSION_TIMEOUT.
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an Empty group waits for more
    /// members, extended (up to the rebalance timeout) while new members keep arriving.
    public var initialRebalanceDelayMs: Int64 = 3_000
    /// `group.max.size`: members beyond it get GROUP_MAX_SIZE_REACHED. Kafka's default is unlimited.
    public var maxSize: Int = Int(Int32.max)
    /// How long a new member's parked JoinGroup may wait before the member is dropped (Kafka's
    /// `GroupCoordinatorConfig.CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS`, 5 minutes): a client that
    /// disconnected while parked and retried would otherwise leave defunct members behind.
    public var newMemberJoinTimeoutMs: Int64 = 300_000
    /// `offset.metadata.max.bytes`: longer commit metadata gets OFFSET_METADATA_TOO_LARGE. Kafka compares
    /// the string's length in UTF-16 code units despite the name; so do we.
    public var offsetMetadataMaxBytes: Int = 4_096
    /// `offsets.retention.minutes` (default 7 days), in milliseconds.
    public var offsetsRetentionMs: Int64 = 10_080 * 60_000
    /// `offsets.retention.check.interval.ms`: how often the driver should call `expireOffsets(now:)`.
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets`, for `GroupPartitioner`.
    public var offsetsTopicPartitions: Int32 = 50

    public init() {}
}
