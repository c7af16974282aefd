import MartletProtocol

/// Heartbeats and explicit leaves.
extension ClassicGroup {
    /// Handles a Heartbeat (Kafka's `classicGroupHeartbeatToClassicGroup`): a valid member of the current
    /// generation extends its session; during PreparingRebalance it is told to rejoin.
    mutating func heartbeat(_ request: HeartbeatRequest, now: Int64) -> KafkaErrorCode {
        if state == .dead { return .coordinatorNotAvailable }
        if let error = validateMember(request.memberId, groupInstanceId: request.groupInstanceId) { return error }
        if request.generationId != generationId { return .illegalGeneration }
        switch state {
        case .empty, .dead:
            return .unknownMemberId
        case .preparingRebalance:
            extendSession(of: request.memberId, now: now)
            return .rebalanceInProgress
        case .completingRebalance, .stable:
            // Clients may heartbeat between their JoinGroup answer and SyncGroup: that is fine.
            extendSession(of: request.memberId, now: now)
            return .none
        }
    }

    /// The member proved it is alive (heartbeat, or an offset commit while Stable or PreparingRebalance).
    mutating func extendSession(of memberId: String, now: Int64) {
        update(memberId) {
            $0.lastHeartbeatMs = now
            $0.heartbeatDeadlineMs = now + Int64($0.sessionTimeoutMs)
        }
    }

    /// Handles the members of a LeaveGroup (v3+ batches them; an admin may remove a static member by
    /// instance id alone). Each gets its own error; any departure rebalances the group, or lets the
    /// rebalance under way complete.
    mutating func leave(
        _ identities: [LeaveGroupRequest.MemberIdentity], now: Int64, config: GroupCoordinatorConfig
    ) -> ([LeaveGroupResponse.MemberResponse], GroupEffects) {
        var effects = GroupEffects()
        var responses: [LeaveGroupResponse.MemberResponse] = []
        var anyLeft = false
        for identity in identities {
            var response = LeaveGroupResponse.MemberResponse(memberId: identity.memberId, groupInstanceId: identity.groupInstanceId)
            if identity.memberId.isEmpty {
                if let instanceId = identity.groupInstanceId, let memberId = staticMemberId(instanceId) {
                    remove(memberId, into: &effects)
                } else {
                    response.errorCode = KafkaErrorCode.unknownMemberId.rawValue
                }
            } else if isPendingMember(identity.memberId) {
                remove(identity.memberId, into: &effects)
            } else if let error = validateMember(identity.memberId, groupInstanceId: identity.groupInstanceId) {
                response.errorCode = error.rawValue
            } else {
                remove(identity.memberId, into: &effects)
            }
            anyLeft = anyLeft || response.errorCode == KafkaErrorCode.none.rawValue
            responses.append(response)
        }
        if anyLeft {
            switch state {
            case .stable, .completingRebalance:
                maybePrepareRebalanceOrCompleteJoin(now: now, config: config, into: &effects)
            case .preparingRebalance:
                maybeCompleteJoinPhase(now: now, config: config, into: &effects)
            case .empty, .dead:
                break
            }
        }
        return (responses, effects)
    }

    /// A member whose session ran out (Kafka's `removeMemberAndUpdateClassicGroup`): it goes, and the
    /// group rebalances or, if it was the last one awaited, completes its join phase.
    mutating func removeExpiredMember(_ memberId: String, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        remove(memberId, into: &effects)
        switch state {
        case .stable, .completingRebalance:
            maybePrepareRebalanceOrCompleteJoin(now: now, config: config, into: &effects)
        case .preparingRebalance where hasAllMembersJoined:
            completeJoinPhase(now: now, into: &effects)
        default:
            break
        }
    }
}
