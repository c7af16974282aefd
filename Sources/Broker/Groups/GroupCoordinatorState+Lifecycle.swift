import MartletProtocol

/// Groups coming and going as wholes: DeleteGroups, offset retention, loading a partition's records at
/// start-up, and giving the partition up.
extension GroupCoordinatorState {
    /// DeleteGroups: only Empty groups go, with all their offsets (tombstones for each, then for the group).
    public mutating func deleteGroups(_ groupIds: [String]) -> GroupOutcome<[DeleteGroupsResponse.DeletableGroupResult]> {
        var effects = GroupEffects()
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for groupId in groupIds {
            let error: KafkaErrorCode
            if groupId.isEmpty {
                error = .invalidGroupId
            } else if let group = groups[groupId], group.state != .dead {
                error = group.isEmpty ? .none : .nonEmptyGroup
            } else {
                error = .groupIdNotFound
            }
            if error == .none {
                var records = offsets.offsets(for: groupId).map { GroupCoordinatorRecord.offset(groupId, $0.topic, $0.partition, nil) }
                records.append(.groupTombstone(groupId))
                for record in records { apply(record) }
                effects.records += records
            }
            results.append(.init(groupId: groupId, errorCode: error.rawValue))
        }
        return GroupOutcome(results, effects)
    }

    /// Offset retention (Kafka's `cleanupGroupMetadata`, run every `offsets.retention.check.interval.ms`).
    /// Offsets expire `offsets.retention.minutes` after the group went Empty (after the commit for groups
    /// without members ever, and for Stable consumer groups on topics they no longer subscribe to), or at
    /// their explicit expire timestamp. An Empty group left with no offsets is deleted as well.
    public mutating func expireOffsets(now: Int64) -> GroupEffects {
        var effects = GroupEffects()
        for groupId in groups.keys.sorted() {
            guard let group = groups[groupId] else { continue }
            var allExpired = true
            if let base = Self.retentionBase(of: group) {
                for (topic, partition, committed) in offsets.offsets(for: groupId) {
                    let expired = !group.isSubscribed(to: topic) && {
                        if let expireAt = committed.expireTimestampMs { return now >= expireAt }
                        return now - base(committed) >= config.offsetsRetentionMs
                    }()
                    if expired {
                        effects.records.append(.offset(groupId, topic, partition, nil))
                    } else {
                        allExpired = false
                    }
                }
            } else if offsets.hasOffsets(for: groupId) {
                allExpired = false
            }
            if allExpired && group.isEmpty { effects.records.append(.groupTombstone(groupId)) }
        }
        for record in effects.records { apply(record) }
        return effects
    }

    /// Kafka's `offsetExpirationCondition`: what an offset's age counts from, or nil while the group's
    /// offsets must be kept (a live group that is not a Stable consumer group with known subscriptions).
    static func retentionBase(of group: ClassicGroup) -> ((CommittedOffset) -> Int64)? {
        guard group.protocolType != nil else { return { $0.commitTimestampMs } }
        if group.state == .empty {
            let since = group.currentStateTimestampMs
            return { since ?? $0.commitTimestampMs }
        }
        if group.usesConsumerProtocol && group.subscribedTopics != nil && group.state == .stable {
            return { $0.commitTimestampMs }
        }
        return nil
    }

    /// Replays one record of `__consumer_offsets` (Kafka's `replay`), in log order at load time. Later
    /// records for a key replace earlier ones; tombstones delete. Offsets of a group with no metadata
    /// record make it a simple group: Empty, without protocol type.
    public mutating func apply(_ record: GroupCoordinatorRecord) {
        switch record {
        case .offsetCommit(let key, let value?):
            if groups[key.group] == nil {
                groups[key.group] = ClassicGroup(
                    groupId: key.group, state: .empty, generationId: 0, protocolType: nil, protocolName: nil,
                    leaderId: nil, currentStateTimestampMs: nil)
            }
            offsets[key.group, key.topic, key.partition] = CommittedOffset(value)
        case .offsetCommit(let key, nil):
            offsets[key.group, key.topic, key.partition] = nil
        case .groupMetadata(let key, let value?):
            groups[key.group] = ClassicGroup(groupId: key.group, loading: value)
        case .groupMetadata(let key, nil):
            groups[key.group] = nil
        }
    }

    /// Ends a load: from `now`, loaded members must heartbeat (or rejoin) within their session timeout.
    /// A group over `group.max.size` (the limit was lowered) rebalances, which sheds the excess members.
    public mutating func finishLoading(now: Int64) -> GroupEffects {
        var effects = GroupEffects()
        for groupId in groups.keys.sorted() {
            for member in groups[groupId]!.members {
                groups[groupId]!.update(member.memberId) { $0.heartbeatDeadlineMs = now + Int64($0.sessionTimeoutMs) }
            }
            if groups[groupId]!.memberCount > config.maxSize {
                groups[groupId]!.prepareRebalance(now: now, config: config, into: &effects)
            }
        }
        return effects
    }

    /// The partition moved away (Kafka's `onUnloaded`): every group goes Dead, and parked calls are told
    /// NOT_COORDINATOR so the clients find the new coordinator. The driver then drops this value.
    public mutating func unload(now: Int64) -> GroupEffects {
        var effects = GroupEffects()
        for groupId in groups.keys.sorted() {
            var group = groups[groupId]!
            group.transition(to: .dead, now: now)
            for member in group.members {
                if let call = member.awaitingJoin {
                    effects.joinResponses.append(ClassicGroup.joinAnswer(call, JoinGroupResponse(
                        errorCode: KafkaErrorCode.notCoordinator.rawValue, memberId: member.memberId)))
                }
                if let call = member.awaitingSync {
                    effects.syncResponses.append(ClassicGroup.syncAnswer(call, SyncGroupResponse(
                        errorCode: KafkaErrorCode.notCoordinator.rawValue)))
                }
                group.update(member.memberId) {
                    $0.awaitingJoin = nil
                    $0.awaitingSync = nil
                    $0.heartbeatDeadlineMs = nil
                }
            }
            group.pendingJoinMembers.removeAll()
            group.joinTimer = nil
            group.syncTimer = nil
            groups[groupId] = group
        }
        return effects
    }
}
