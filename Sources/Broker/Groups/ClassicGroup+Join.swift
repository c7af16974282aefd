import MartletProtocol

/// A JoinGroup call as the coordinator needs it: the request, the id the driver waits on, the version to
/// answer in (v4+ requires a known member id, v9+ lets a returning static leader skip the assignment), and
/// the client's identity as DescribeGroups shows it (Kafka's client host is `"/" + ip`).
public struct JoinGroupCall: Sendable {
    public var request: JoinGroupRequest
    public var requestID: GroupRequestID
    public var apiVersion: Int16
    public var clientId: String
    public var clientHost: String

    public init(_ request: JoinGroupRequest, requestID: GroupRequestID, apiVersion: Int16, clientId: String, clientHost: String) {
        self.request = request
        self.requestID = requestID
        self.apiVersion = apiVersion
        self.clientId = clientId
        self.clientHost = clientHost
    }

    var parked: ClassicGroupMember.ParkedCall { .init(requestID: requestID, apiVersion: apiVersion) }

    var protocols: [ClassicGroupMember.SupportedProtocol] {
        request.protocols.map { .init(name: $0.name, metadata: $0.metadata) }
    }

    /// JoinGroup v0 has no rebalance timeout: the session timeout stands in (Kafka's
    /// `maybeOverrideRebalanceTimeout`).
    var rebalanceTimeoutMs: Int32 {
        apiVersion == 0 || request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs
    }
}

extension ClassicGroup {
    /// Handles a JoinGroup for this group (Kafka's `classicGroupJoinToClassicGroup` after the group
    /// lookup). The caller's answer is in the effects, now or in those of a later event.
    mutating func join<R: RandomNumberGenerator>(
        _ call: JoinGroupCall, now: Int64, config: GroupCoordinatorConfig, random: inout R
    ) -> GroupEffects {
        var effects = GroupEffects()
        let memberId = call.request.memberId
        if !acceptsJoiningMember(memberId, config: config) {
            remove(memberId, into: &effects)
            effects.joinResponses.append(Self.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: KafkaErrorCode.groupMaxSizeReached.rawValue, memberId: "")))
        } else if memberId.isEmpty {
            joinNewMember(call, now: now, config: config, random: &random, into: &effects)
        } else {
            joinExistingMember(call, now: now, config: config, into: &effects)
        }
        return effects
    }

    /// `group.max.size`: while preparing a rebalance the members already rejoined count (so the last ones
    /// to rejoin an oversized group are turned away); otherwise the members.
    func acceptsJoiningMember(_ memberId: String, config: GroupCoordinatorConfig) -> Bool {
        switch state {
        case .empty, .dead:
            true
        case .preparingRebalance:
            (member(memberId)?.isAwaitingJoin ?? false) || awaitingJoinCount < config.maxSize
        case .completingRebalance, .stable:
            hasMember(memberId) || memberCount < config.maxSize
        }
    }

    private mutating func joinNewMember<R: RandomNumberGenerator>(
        _ call: JoinGroupCall, now: Int64, config: GroupCoordinatorConfig, random: inout R, into effects: inout GroupEffects
    ) {
        let request = call.request
        if state == .dead {
            effects.joinResponses.append(Self.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, memberId: "")))
            return
        }
        guard supportsProtocols(type: request.protocolType, names: request.protocols.map(\.name)) else {
            effects.joinResponses.append(Self.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: KafkaErrorCode.inconsistentGroupProtocol.rawValue, memberId: "")))
            return
        }
        let newMemberId = Self.newMemberId(clientId: call.clientId, groupInstanceId: request.groupInstanceId, using: &random)
        if let instanceId = request.groupInstanceId {
            if let existing = staticMemberId(instanceId) {
                replaceStaticMemberThenRebalanceOrCompleteJoin(
                    call, oldMemberId: existing, newMemberId: newMemberId, now: now, config: config, into: &effects)
            } else {
                addMemberThenRebalanceOrCompleteJoin(call, memberId: newMemberId, now: now, config: config, into: &effects)
            }
        } else if call.apiVersion >= 4 {
            // KIP-394: the member id comes back first, so a client that never rejoins (it timed out and
            // retries) leaves a pending id that expires after a session timeout, not a member.
            pendingJoinMembers[newMemberId] = now + Int64(request.sessionTimeoutMs)
            effects.joinResponses.append(Self.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: KafkaErrorCode.memberIdRequired.rawValue, memberId: newMemberId)))
        } else {
            addMemberThenRebalanceOrCompleteJoin(call, memberId: newMemberId, now: now, config: config, into: &effects)
        }
    }

    private mutating func joinExistingMember(
        _ call: JoinGroupCall, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects
    ) {
        let request = call.request
        let memberId = request.memberId
        func answer(_ error: KafkaErrorCode) {
            effects.joinResponses.append(Self.joinAnswer(call.parked, JoinGroupResponse(
                errorCode: error.rawValue, protocolType: nil, protocolName: nil, memberId: memberId)))
        }
        if state == .dead { return answer(.coordinatorNotAvailable) }
        guard supportsProtocols(type: request.protocolType, names: request.protocols.map(\.name)) else {
            return answer(.inconsistentGroupProtocol)
        }
        if isPendingMember(memberId) && request.groupInstanceId == nil {
            return addMemberThenRebalanceOrCompleteJoin(call, memberId: memberId, now: now, config: config, into: &effects)
        }
        if let error = validateMember(memberId, groupInstanceId: request.groupInstanceId) { return answer(error) }
        guard let member = member(memberId) else { return answer(.unknownMemberId) }

        switch state {
        case .preparingRebalance:
            updateMemberThenRebalanceOrCompleteJoin(call, now: now, config: config, into: &effects)
        case .completingRebalance:
            if member.matches(call.protocols) {
                // The member missed its JoinGroup answer: give it the current generation again.
                effects.joinResponses.append(Self.joinAnswer(call.parked, currentGenerationResponse(
                    for: memberId, withMembers: isLeader(memberId))))
            } else {
                updateMemberThenRebalanceOrCompleteJoin(call, now: now, config: config, into: &effects)
            }
        case .stable:
            if isLeader(memberId) || !member.matches(call.protocols) {
                // A leader's JoinGroup asks for a rebalance (its assignment depends on things the member
                // metadata does not show, such as topic partitions); so do changed protocols.
                updateMemberThenRebalanceOrCompleteJoin(call, now: now, config: config, into: &effects)
            } else {
                effects.joinResponses.append(Self.joinAnswer(call.parked, currentGenerationResponse(
                    for: memberId, withMembers: false)))
            }
        case .empty, .dead:
            answer(.unknownMemberId)
        }
    }

    /// The JoinGroup answer for the current generation; the leader's lists every member's metadata.
    func currentGenerationResponse(for memberId: String, withMembers: Bool, skipAssignment: Bool = false) -> JoinGroupResponse {
        JoinGroupResponse(
            generationId: generationId, protocolType: protocolType, protocolName: protocolName,
            leader: leaderId ?? "", skipAssignment: skipAssignment, memberId: memberId,
            members: withMembers ? joinResponseMembers : [])
    }

    var joinResponseMembers: [JoinGroupResponse.JoinGroupResponseMember] {
        members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName)) }
    }

    /// Parks the member's call, replacing (and answering) a call it had parked before.
    mutating func park(join call: JoinGroupCall, memberId: String, into effects: inout GroupEffects) {
        update(memberId) { member in
            if let old = member.awaitingJoin {
                effects.joinResponses.append(Self.joinAnswer(old, JoinGroupResponse(
                    errorCode: KafkaErrorCode.rebalanceInProgress.rawValue, memberId: memberId)))
            }
            member.awaitingJoin = call.parked
            member.protocols = call.protocols
            member.rebalanceTimeoutMs = call.rebalanceTimeoutMs
            member.sessionTimeoutMs = call.request.sessionTimeoutMs
        }
    }

    private mutating func updateMemberThenRebalanceOrCompleteJoin(
        _ call: JoinGroupCall, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects
    ) {
        park(join: call, memberId: call.request.memberId, into: &effects)
        maybePrepareRebalanceOrCompleteJoin(now: now, config: config, into: &effects)
    }

    private mutating func addMemberThenRebalanceOrCompleteJoin(
        _ call: JoinGroupCall, memberId: String, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects
    ) {
        var member = ClassicGroupMember(
            memberId: memberId, groupInstanceId: call.request.groupInstanceId, clientId: call.clientId,
            clientHost: call.clientHost, rebalanceTimeoutMs: call.rebalanceTimeoutMs,
            sessionTimeoutMs: call.request.sessionTimeoutMs, protocolType: call.request.protocolType,
            protocols: call.protocols)
        member.isNew = true
        member.awaitingJoin = call.parked
        // A parked new member cannot heartbeat and its disconnect goes unseen, so it gets the longer
        // new-member timeout instead of its session timeout.
        member.heartbeatDeadlineMs = now + config.newMemberJoinTimeoutMs
        if state == .preparingRebalance && previousState == .empty { newMemberAdded = true }
        add(member)
        maybePrepareRebalanceOrCompleteJoin(now: now, config: config, into: &effects)
    }

    /// A static member back with a new member id (a restarted process). In a Stable group whose protocol
    /// would not change it simply takes the old member's place and assignment, without a rebalance: the
    /// point of static membership. The new id is persisted before the member is answered.
    private mutating func replaceStaticMemberThenRebalanceOrCompleteJoin(
        _ call: JoinGroupCall, oldMemberId: String, newMemberId: String, now: Int64, config: GroupCoordinatorConfig,
        into effects: inout GroupEffects
    ) {
        guard let instanceId = call.request.groupInstanceId else { return }
        let previousLeader = leaderId
        replaceStaticMember(instanceId, oldMemberId: oldMemberId, newMemberId: newMemberId, into: &effects)
        update(newMemberId) {
            $0.lastHeartbeatMs = now
            $0.heartbeatDeadlineMs = now + Int64($0.sessionTimeoutMs)
        }
        park(join: call, memberId: newMemberId, into: &effects)

        switch state {
        case .stable:
            guard selectProtocol() == protocolName else {
                return maybePrepareRebalanceOrCompleteJoin(now: now, config: config, into: &effects)
            }
            effects.records.append(metadataRecord())
            let response: JoinGroupResponse
            if call.apiVersion >= 9 {
                // v9+: a returning leader gets the member list but is told to keep the current assignment.
                let leads = isLeader(newMemberId)
                response = currentGenerationResponse(for: newMemberId, withMembers: leads, skipAssignment: leads)
            } else {
                // Older clients would run the assignment if told they lead; naming the old leader id keeps
                // them followers, and the group keeps its assignment.
                var plain = currentGenerationResponse(for: newMemberId, withMembers: false)
                plain.leader = previousLeader ?? ""
                response = plain
            }
            completeJoin(of: newMemberId, with: response, into: &effects)
        case .completingRebalance:
            // The leader may already be assigning with the old member id: start over.
            prepareRebalance(now: now, config: config, into: &effects)
        case .preparingRebalance:
            maybeCompleteJoinPhase(now: now, config: config, into: &effects)
        case .empty, .dead:
            break
        }
    }

    /// Answers a member's parked JoinGroup.
    mutating func completeJoin(of memberId: String, with response: JoinGroupResponse, into effects: inout GroupEffects) {
        update(memberId) { member in
            if let call = member.awaitingJoin {
                effects.joinResponses.append(Self.joinAnswer(call, response))
                member.awaitingJoin = nil
            }
        }
    }
}
