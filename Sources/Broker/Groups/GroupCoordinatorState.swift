import MartletProtocol
import MartletReplication

/// The group coordinator of one `__consumer_offsets` partition (or of several; nothing here depends on
/// which) as a value: its classic groups and their committed offsets, Kafka's `GroupMetadataManager` and
/// `OffsetMetadataManager` without timers, futures or I/O.
///
/// How a driver uses it:
/// - Requests: `join` / `sync` park their call under a `GroupRequestID` and return `GroupEffects`;
///   `heartbeat`, `leave`, the offset calls, `describeGroups` and `listGroups` answer at once.
/// - Every `GroupEffects`: append its `records` (through `GroupRecordCodec`) to the partition, then send
///   its answers. Answers to calls parked earlier arrive in the effects of whatever event completes them.
/// - Time: call `tick(now:)` at `nextDeadlineMs` (re-read it after every call; it may be in the past, then
///   tick at once) and `expireOffsets(now:)` every `offsets.retention.check.interval.ms`.
/// - Start-up: `apply` every record of the partition in log order, then `finishLoading(now:)`. On losing
///   the partition: `unload(now:)`, send its answers, drop the value.
public struct GroupCoordinatorState: Sendable, Equatable {
    public var config: GroupCoordinatorConfig
    public internal(set) var groups: [String: ClassicGroup] = [:]
    public internal(set) var offsets = CommittedOffsets()
    /// The source of new member ids.
    var random: SplitMix64

    public init(config: GroupCoordinatorConfig = GroupCoordinatorConfig(), random: SplitMix64 = .seededFromSystem()) {
        self.config = config
        self.random = random
    }

    public func group(_ groupId: String) -> ClassicGroup? { groups[groupId] }

    // MARK: Membership

    /// JoinGroup. The answer (now or later) comes under `call.requestID`.
    public mutating func join(_ call: JoinGroupCall, now: Int64) -> GroupEffects {
        let request = call.request
        func fail(_ error: KafkaErrorCode) -> GroupEffects {
            var effects = GroupEffects()
            effects.joinResponses.append(ClassicGroup.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: error.rawValue, memberId: request.memberId)))
            return effects
        }
        if request.groupId.isEmpty { return fail(.invalidGroupId) }
        if request.sessionTimeoutMs < config.minSessionTimeoutMs || request.sessionTimeoutMs > config.maxSessionTimeoutMs {
            return fail(.invalidSessionTimeout)
        }
        let isNewGroup = groups[request.groupId] == nil
        if isNewGroup {
            // A member id for a group that does not exist is stale (the group expired or was deleted).
            if !request.memberId.isEmpty { return fail(.unknownMemberId) }
            groups[request.groupId] = ClassicGroup(groupId: request.groupId, now: now)
        }
        var effects = groups[request.groupId]!.join(call, now: now, config: config, random: &random)
        if isNewGroup && effects.records.isEmpty {
            // Kafka makes a new group durable at once, as an empty one.
            let group = groups[request.groupId]!
            effects.records.append(.groupMetadata(GroupMetadataKey(group: group.groupId), GroupMetadataValue(
                protocolType: "", generation: 0, protocol: nil, leader: nil,
                currentStateTimestamp: group.currentStateTimestampMs ?? -1, members: [])))
        }
        return effects
    }

    /// SyncGroup. The answer (now or once the leader's assignment arrives) comes under `call.requestID`.
    public mutating func sync(_ call: SyncGroupCall, now: Int64) -> GroupEffects {
        let groupId = call.request.groupId
        let error: KafkaErrorCode? = groupId.isEmpty ? .invalidGroupId
            : groups[groupId].map { $0.isEmpty ? .unknownMemberId : nil } ?? .unknownMemberId
        if let error {
            var effects = GroupEffects()
            effects.syncResponses.append(ClassicGroup.syncAnswer(call.parked, SyncGroupResponse(errorCode: error.rawValue)))
            return effects
        }
        return groups[groupId]!.sync(call, now: now)
    }

    public mutating func heartbeat(_ request: HeartbeatRequest, now: Int64) -> HeartbeatResponse {
        if request.groupId.isEmpty { return HeartbeatResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue) }
        guard groups[request.groupId] != nil else {
            return HeartbeatResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue)
        }
        return HeartbeatResponse(errorCode: groups[request.groupId]!.heartbeat(request, now: now).rawValue)
    }

    /// LeaveGroup, shaped for `apiVersion`: v3+ answers per member; v0-2 name one member at the top level
    /// and get its error (or the group's) there.
    public mutating func leave(_ request: LeaveGroupRequest, apiVersion: Int16, now: Int64) -> GroupOutcome<LeaveGroupResponse> {
        let identities = apiVersion >= 3 ? request.members : [LeaveGroupRequest.MemberIdentity(memberId: request.memberId)]
        var topLevel: KafkaErrorCode = .none
        var members: [LeaveGroupResponse.MemberResponse] = []
        var effects = GroupEffects()
        if request.groupId.isEmpty {
            topLevel = .invalidGroupId
        } else if let group = groups[request.groupId] {
            if group.state == .dead {
                topLevel = .coordinatorNotAvailable
            } else {
                (members, effects) = groups[request.groupId]!.leave(identities, now: now, config: config)
            }
        } else {
            topLevel = .unknownMemberId
        }
        if apiVersion >= 3 {
            return GroupOutcome(LeaveGroupResponse(errorCode: topLevel.rawValue, members: topLevel == .none ? members : []), effects)
        }
        let memberError = members.first { $0.errorCode != KafkaErrorCode.none.rawValue }?.errorCode ?? 0
        return GroupOutcome(LeaveGroupResponse(errorCode: topLevel != .none ? topLevel.rawValue : memberError), effects)
    }

    // MARK: Time

    /// The earliest deadline of any group: when `tick` next has work.
    public var nextDeadlineMs: Int64? { groups.values.compactMap(\.nextDeadlineMs).min() }

    /// Fires every deadline due at `now`: expired sessions, completed join phases, missed SyncGroups.
    public mutating func tick(now: Int64) -> GroupEffects {
        var effects = GroupEffects()
        let due = groups.compactMap { id, group in (group.nextDeadlineMs ?? .max) <= now ? id : nil }.sorted()
        for id in due {
            effects.append(groups[id]!.tick(now: now, config: config))
        }
        return effects
    }

    // MARK: Describe and list

    /// DescribeGroups: an unknown group is described as Dead, without error, as Kafka does.
    public func describeGroups(_ groupIds: [String]) -> [DescribeGroupsResponse.DescribedGroup] {
        groupIds.map { id in
            if id.isEmpty {
                return DescribeGroupsResponse.DescribedGroup(errorCode: KafkaErrorCode.invalidGroupId.rawValue, groupId: id)
            }
            return groups[id]?.described()
                ?? DescribeGroupsResponse.DescribedGroup(groupId: id, groupState: ClassicGroupState.dead.name)
        }
    }

    /// ListGroups, ordered by group id. States match case-insensitively (v4+); types (v5+) are "classic"
    /// here, and an unknown type matches nothing.
    public func listGroups(statesFilter: [String] = [], typesFilter: [String] = []) -> [ListGroupsResponse.ListedGroup] {
        let states = Set(statesFilter.map { $0.groupFilterTrimmed().lowercased() })
        let types = Set(typesFilter.map { $0.groupFilterTrimmed().lowercased() })
        if !types.isEmpty && !types.contains(ClassicGroup.groupType) { return [] }
        return groups.keys.sorted().compactMap { id in
            let group = groups[id]!
            return states.isEmpty || states.contains(group.state.name.lowercased()) ? group.listed() : nil
        }
    }
}

fileprivate extension String {
    func groupFilterTrimmed() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
