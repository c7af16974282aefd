/// Kafka's per-group timers as stored deadlines. The driver wakes the coordinator at `nextDeadlineMs`
/// (or on a coarse period) and `tick` fires whatever is due, earliest first, as Kafka's timer wheel would.
extension ClassicGroup {
    enum Timer: Equatable {
        case heartbeat(memberId: String)
        case pendingMember(memberId: String)
        case join
        case sync
    }

    /// The earliest deadline this group has, if any.
    public var nextDeadlineMs: Int64? { earliestTimer()?.deadline }

    private func earliestTimer() -> (deadline: Int64, timer: Timer)? {
        var best: (deadline: Int64, timer: Timer)?
        func consider(_ deadline: Int64?, _ timer: Timer) {
            guard let deadline, best.map({ deadline < $0.deadline }) ?? true else { return }
            best = (deadline, timer)
        }
        consider(joinTimer?.deadlineMs, .join)
        consider(syncTimer?.atMs, .sync)
        for id in memberOrder { consider(membersById[id]?.heartbeatDeadlineMs, .heartbeat(memberId: id)) }
        for (id, deadline) in pendingJoinMembers.sorted(by: { $0.key < $1.key }) { consider(deadline, .pendingMember(memberId: id)) }
        return best
    }

    /// Fires every timer due at `now`. Each firing clears or pushes back its own deadline, so this ends;
    /// the bound only guards against a bug turning into a hang.
    mutating func tick(now: Int64, config: GroupCoordinatorConfig) -> GroupEffects {
        var effects = GroupEffects()
        var fired = 0
        while let (deadline, timer) = earliestTimer(), deadline <= now, fired < 100_000 {
            fire(timer, now: now, config: config, into: &effects)
            fired += 1
        }
        return effects
    }

    private mutating func fire(_ timer: Timer, now: Int64, config: GroupCoordinatorConfig, into effects: inout GroupEffects) {
        switch timer {
        case .heartbeat(let memberId):
            update(memberId) { $0.heartbeatDeadlineMs = nil }
            // A member waiting in a rebalance counts as alive; its deadline is re-armed when the
            // rebalance answers it.
            if state != .dead, let member = member(memberId), !member.hasSatisfiedHeartbeat {
                removeExpiredMember(memberId, now: now, config: config, into: &effects)
            }
        case .pendingMember(let memberId):
            // A member id handed out with MEMBER_ID_REQUIRED that never came back.
            remove(memberId, into: &effects)
            if state == .preparingRebalance && hasAllMembersJoined {
                completeJoinPhase(now: now, into: &effects)
            }
        case .join:
            let current = joinTimer
            joinTimer = nil
            switch current {
            case .initialDelay(_, let delayMs, let remainingMs):
                initialDelayExpired(delayMs: delayMs, remainingMs: remainingMs, now: now, config: config, into: &effects)
            case .rebalance:
                completeJoinPhase(now: now, into: &effects)
            case nil:
                break
            }
        case .sync:
            let generation = syncTimer?.generation ?? generationId
            syncTimer = nil
            syncDeadlineExpired(generation: generation, now: now, config: config, into: &effects)
        }
    }
}
