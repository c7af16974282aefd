import MartletProtocol
import NIOCore

/// The rebalance itself: entering PreparingRebalance, completing the join phase into a new generation, and
/// handing the leader's assignment to every member.
extension ClassicGroup {
    /// A membership change: start a rebalance if the group is settled, else see whether the rebalance under
    /// way can complete.
    mutating func maybePrepareRebalanceOrCompleteJoin(now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        if canRebalance {
            prepareRebalance(now: now, config: config, into: &effects)
        } else {
            maybeCompleteJoinPhase(now: now, config: config, into: &effects)
        }
    }

    /// Kafka's `prepareRebalance`. Members parked in SyncGroup learn the generation is void
    /// (REBALANCE_IN_PROGRESS) and rejoin. A group coming from Empty waits `group.initial.rebalance.delay.ms`
    /// for more members before completing; otherwise the join phase completes once every member has
    /// rejoined, or when the rebalance timeout passes.
    mutating func prepareRebalance(now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        if state == .completingRebalance {
            for id in memberOrder { update(id) { $0.assignment = ByteBuffer() } }
            propagateAssignment(error: .rebalanceInProgress, now: now, into: &effects)
        }
        pendingSyncMembers.removeAll()
        syncTimer = nil

        let isInitialRebalance = state == .empty
        if isInitialRebalance {
            let delay = config.initialRebalanceDelayMs
            joinTimer = .initialDelay(atMs: now + delay, delayMs: delay, remainingMs: max(rebalanceTimeoutMs - delay, 0))
        }
        transition(to: .preparingRebalance, now: now)
        if !isInitialRebalance {
            if hasAllMembersJoined {
                completeJoinPhase(now: now, into: &effects)
            } else {
                joinTimer = .rebalance(atMs: now + rebalanceTimeoutMs)
            }
        }
    }

    /// Completes the join phase if everyone is in, except during the initial delay, which runs its course.
    mutating func maybeCompleteJoinPhase(now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        guard state == .preparingRebalance, previousState != .empty, hasAllMembersJoined else { return }
        completeJoinPhase(now: now, into: &effects)
    }

    /// The initial-delay timer fired: wait one more delay (within the rebalance timeout) if a new member
    /// arrived meanwhile, else complete the join phase.
    mutating func initialDelayExpired(delayMs: Int64, remainingMs: Int64, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        if newMemberAdded && remainingMs != 0 {
            newMemberAdded = false
            let newDelay = min(config.initialRebalanceDelayMs, remainingMs)
            // As Kafka computes it: the remaining budget shrinks by the previous delay.
            let newRemaining = max(remainingMs - delayMs, 0)
            joinTimer = .initialDelay(atMs: now + newDelay, delayMs: newDelay, remainingMs: newRemaining)
        } else {
            completeJoinPhase(now: now, into: &effects)
        }
    }

    /// Kafka's `completeClassicGroupJoin`: dynamic members that did not rejoin are dropped (static ones
    /// keep their place), the generation advances and the protocol is chosen. With members left, each
    /// parked JoinGroup is answered (the leader's with everyone's metadata) and SyncGroup is awaited for up
    /// to the rebalance timeout; with none, the group is Empty and that is persisted.
    mutating func completeJoinPhase(now: Int64, into effects: inout GroupEffects) {
        joinTimer = nil
        guard state == .preparingRebalance else { return }
        for member in members where !member.isAwaitingJoin && !member.isStatic {
            remove(member.memberId, into: &effects)
        }
        guard state != .dead else { return }
        if !maybeElectNewJoinedLeader() && memberCount > 0 {
            // Nobody rejoined: try again after another rebalance timeout, by when session timeouts will
            // have removed the members that are gone.
            joinTimer = .rebalance(atMs: now + max(rebalanceTimeoutMs, 1))
            return
        }
        initNextGeneration(now: now)
        if state == .empty {
            effects.records.append(metadataRecord())
            return
        }
        for member in members {
            completeJoin(of: member.memberId, with: currentGenerationResponse(
                for: member.memberId, withMembers: isLeader(member.memberId)), into: &effects)
            update(member.memberId) {
                $0.isNew = false
                $0.lastHeartbeatMs = now
                $0.heartbeatDeadlineMs = now + Int64($0.sessionTimeoutMs)
            }
            pendingSyncMembers.insert(member.memberId)
        }
        syncTimer = SyncTimer(atMs: now + rebalanceTimeoutMs, generation: generationId)
    }

    mutating func initNextGeneration(now: Int64) {
        generationId += 1
        if memberCount > 0 {
            protocolName = selectProtocol()
            subscribedTopics = computeSubscribedTopics()
            transition(to: .completingRebalance, now: now)
        } else {
            protocolName = nil
            subscribedTopics = computeSubscribedTopics()
            transition(to: .empty, now: now)
        }
        pendingSyncMembers.removeAll()
    }

    /// Answers every parked SyncGroup: with the member's assignment, or with `error` (then without the
    /// protocol). A member answered has just proved it is alive.
    mutating func propagateAssignment(error: KafkaErrorCode, now: Int64, into effects: inout GroupEffects) {
        let ok = error == .none
        let protocolType = ok ? protocolType : nil
        let protocolName = ok ? protocolName : nil
        for id in memberOrder {
            update(id) { member in
                guard let call = member.awaitingSync else { return }
                effects.syncResponses.append(Self.syncAnswer(call, SyncGroupResponse(
                    errorCode: error.rawValue,
                    protocolType: protocolType, protocolName: protocolName,
                    assignment: member.assignment)))
                member.awaitingSync = nil
                member.lastHeartbeatMs = now
                member.heartbeatDeadlineMs = now + Int64(member.sessionTimeoutMs)
            }
        }
    }

    /// The SyncGroup deadline of `generation` passed: members that never sent SyncGroup are dropped and
    /// the group rebalances without them.
    mutating func syncDeadlineExpired(generation: Int32, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        guard generation == generationId, state == .completingRebalance || state == .stable,
              !pendingSyncMembers.isEmpty else { return }
        for memberId in pendingSyncMembers.sorted() { remove(memberId, into: &effects) }
        prepareRebalance(now: now, config: config, into: &effects)
    }
}
