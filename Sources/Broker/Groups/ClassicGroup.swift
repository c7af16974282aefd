import MartletProtocol
import NIOCore

/// One classic consumer group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) as a value: Kafka's `ClassicGroup`
/// plus the classic parts of its `GroupMetadataManager`, without timers or futures.
///
/// Events carry the current time; calls that Kafka parks (JoinGroup until the join phase completes,
/// SyncGroup until the leader's assignment arrives) are kept as request ids and answered in the
/// `GroupEffects` of whichever later event completes them. Kafka's timers are deadlines stored here:
/// `nextDeadlineMs` says when `tick(now:)` has work, and `tick` fires what is due in deadline order.
///
/// `GroupCoordinatorState` owns the groups and routes requests; the rules live in the extensions:
/// `+Join`, `+Rebalance`, `+Sync`, `+Membership` (heartbeat, leave), `+Timers`, `+Persistence`.
public struct ClassicGroup: Sendable, Equatable {
    /// The join phase's timer: the initial-rebalance delay of a group that was Empty (extended while new
    /// members arrive), or the rebalance timeout of a later rebalance.
    enum JoinTimer: Sendable, Equatable {
        case initialDelay(atMs: Int64, delayMs: Int64, remainingMs: Int64)
        case rebalance(atMs: Int64)

        var deadlineMs: Int64 {
            switch self {
            case .initialDelay(let at, _, _), .rebalance(let at): at
            }
        }
    }

    /// The deadline for members to send SyncGroup after the join phase of `generation` completed.
    struct SyncTimer: Sendable, Equatable {
        var atMs: Int64
        var generation: Int32
    }

    public let groupId: String
    public internal(set) var state: ClassicGroupState
    public internal(set) var previousState: ClassicGroupState
    /// When the group entered its current state; persisted, and the base of offset retention once Empty.
    public internal(set) var currentStateTimestampMs: Int64?
    /// Fixed by the first member (e.g. "consumer", "connect"); nil for a group that only commits offsets.
    public internal(set) var protocolType: String?
    /// The protocol chosen for the current generation.
    public internal(set) var protocolName: String?
    public internal(set) var generationId: Int32
    public internal(set) var leaderId: String?
    /// Topics the members subscribe to, read from their "consumer" protocol metadata; nil when unknown.
    public internal(set) var subscribedTopics: Set<String>?

    /// Member ids in join order: Kafka picks a new leader from its members arbitrarily, we pick the oldest.
    var memberOrder: [String] = []
    var membersById: [String: ClassicGroupMember] = [:]
    /// Group instance id -> member id of the static members.
    var staticMembers: [String: String] = [:]
    /// Member ids handed out with MEMBER_ID_REQUIRED, not yet joined, with the deadline to rejoin by.
    var pendingJoinMembers: [String: Int64] = [:]
    /// Members of the new generation that have not sent SyncGroup yet.
    var pendingSyncMembers: Set<String> = []
    /// A new member arrived during the initial rebalance delay, so the delay is extended once more.
    var newMemberAdded = false
    var joinTimer: JoinTimer?
    var syncTimer: SyncTimer?

    /// A new Empty group, as a first JoinGroup or offset commit creates it.
    public init(groupId: String, now: Int64) {
        self.groupId = groupId
        self.state = .empty
        self.previousState = .dead
        self.currentStateTimestampMs = now
        self.generationId = 0
    }

    init(
        groupId: String, state: ClassicGroupState, generationId: Int32, protocolType: String?,
        protocolName: String?, leaderId: String?, currentStateTimestampMs: Int64?
    ) {
        self.groupId = groupId
        self.state = state
        self.previousState = .dead
        self.generationId = generationId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.leaderId = leaderId
        self.currentStateTimestampMs = currentStateTimestampMs
    }

    // MARK: Members

    /// The members in join order.
    public var members: [ClassicGroupMember] { memberOrder.compactMap { membersById[$0] } }
    public var memberCount: Int { membersById.count }
    public func member(_ memberId: String) -> ClassicGroupMember? { membersById[memberId] }
    public func hasMember(_ memberId: String) -> Bool { membersById[memberId] != nil }
    public func isLeader(_ memberId: String) -> Bool { leaderId == memberId }
    public func staticMemberId(_ groupInstanceId: String) -> String? { staticMembers[groupInstanceId] }
    public func isPendingMember(_ memberId: String) -> Bool { pendingJoinMembers[memberId] != nil }
    public var isEmpty: Bool { state == .empty }
    public var usesConsumerProtocol: Bool { protocolType == "consumer" }

    var awaitingJoinCount: Int { membersById.values.reduce(0) { $0 + ($1.isAwaitingJoin ? 1 : 0) } }

    /// Every member has rejoined and no member id handed out is still expected.
    var hasAllMembersJoined: Bool { membersById.count == awaitingJoinCount && pendingJoinMembers.isEmpty }

    /// The longest rebalance timeout among the members: how long the join and sync phases may take.
    var rebalanceTimeoutMs: Int64 { Int64(membersById.values.map(\.rebalanceTimeoutMs).max() ?? 0) }

    mutating func update(_ memberId: String, _ change: (inout ClassicGroupMember) -> Void) {
        guard var member = membersById[memberId] else { return }
        change(&member)
        membersById[memberId] = member
    }

    /// Adds a member; the first one fixes the protocol type and becomes leader if there is none.
    mutating func add(_ member: ClassicGroupMember) {
        if let instanceId = member.groupInstanceId { staticMembers[instanceId] = member.memberId }
        if membersById.isEmpty { protocolType = member.protocolType }
        if leaderId == nil { leaderId = member.memberId }
        membersById[member.memberId] = member
        memberOrder.append(member.memberId)
        pendingJoinMembers[member.memberId] = nil
    }

    /// Removes a member (or a pending member id). Its parked calls are answered UNKNOWN_MEMBER_ID so the
    /// driver is never left holding a call nobody will answer; a leader is replaced by the oldest member.
    mutating func remove(_ memberId: String, into effects: inout GroupEffects) {
        if let removed = membersById.removeValue(forKey: memberId) {
            memberOrder.removeAll { $0 == memberId }
            if let instanceId = removed.groupInstanceId, staticMembers[instanceId] == memberId {
                staticMembers[instanceId] = nil
            }
            if let call = removed.awaitingJoin {
                effects.joinResponses.append(Self.joinAnswer(call, JoinGroupResponse(
                    errorCode: KafkaErrorCode.unknownMemberId.rawValue, memberId: "")))
            }
            if let call = removed.awaitingSync {
                effects.syncResponses.append(Self.syncAnswer(call, SyncGroupResponse(
                    errorCode: KafkaErrorCode.unknownMemberId.rawValue)))
            }
        }
        if leaderId == memberId { leaderId = memberOrder.first }
        pendingJoinMembers[memberId] = nil
        pendingSyncMembers.remove(memberId)
    }

    /// A static member returning under a new member id takes over the old member's place, protocols and
    /// assignment. Calls parked under the old id are fenced: another process now owns the instance id.
    mutating func replaceStaticMember(
        _ groupInstanceId: String, oldMemberId: String, newMemberId: String, into effects: inout GroupEffects
    ) {
        guard let old = membersById.removeValue(forKey: oldMemberId) else { return }
        if let call = old.awaitingJoin {
            effects.joinResponses.append(Self.joinAnswer(call, JoinGroupResponse(
                errorCode: KafkaErrorCode.fencedInstanceId.rawValue, protocolType: nil, protocolName: nil,
                leader: "", memberId: oldMemberId)))
        }
        if let call = old.awaitingSync {
            effects.syncResponses.append(Self.syncAnswer(call, SyncGroupResponse(
                errorCode: KafkaErrorCode.fencedInstanceId.rawValue)))
        }
        membersById[newMemberId] = old.renamed(newMemberId)
        if let index = memberOrder.firstIndex(of: oldMemberId) { memberOrder[index] = newMemberId }
        if leaderId == oldMemberId { leaderId = newMemberId }
        staticMembers[groupInstanceId] = newMemberId
        pendingSyncMembers.remove(oldMemberId)
    }

    /// Kafka's `validateMember`: a static member must call with the member id its instance id maps to
    /// (FENCED_INSTANCE_ID otherwise: a newer process took the instance over), and the member must exist.
    func validateMember(_ memberId: String, groupInstanceId: String?) -> KafkaErrorCode? {
        if let instanceId = groupInstanceId {
            guard let existing = staticMembers[instanceId] else { return .unknownMemberId }
            if existing != memberId { return .fencedInstanceId }
        }
        return hasMember(memberId) ? nil : .unknownMemberId
    }

    /// If the leader did not rejoin, the first member that did becomes leader. False if nobody rejoined
    /// (or there is no leader because the group has no members).
    mutating func maybeElectNewJoinedLeader() -> Bool {
        guard let leader = leaderId, let current = membersById[leader] else { return false }
        if current.isAwaitingJoin { return true }
        guard let joined = members.first(where: \.isAwaitingJoin) else { return false }
        leaderId = joined.memberId
        return true
    }

    // MARK: State

    mutating func transition(to target: ClassicGroupState, now: Int64) {
        precondition(target.validPreviousStates.contains(state),
                     "group \(groupId) cannot go from \(state.name) to \(target.name)")
        previousState = state
        state = target
        currentStateTimestampMs = now
    }

    /// Whether a membership change starts a rebalance now (else it may complete the one under way).
    var canRebalance: Bool { ClassicGroupState.preparingRebalance.validPreviousStates.contains(state) }

    // MARK: Protocols

    /// Protocols every member supports.
    var candidateProtocols: Set<String> {
        guard let first = membersById.values.first else { return [] }
        var candidates = Set(first.protocols.map(\.name))
        for member in membersById.values { candidates.formIntersection(member.protocols.map(\.name)) }
        return candidates
    }

    /// Whether a member with this protocol type and these protocols may join: any non-empty type and list
    /// while Empty; otherwise the group's type and at least one protocol every current member supports.
    func supportsProtocols(type: String, names: [String]) -> Bool {
        if state == .empty { return !type.isEmpty && !names.isEmpty }
        guard protocolType == type else { return false }
        let candidates = candidateProtocols
        return names.contains { candidates.contains($0) }
    }

    /// Kafka's `selectProtocol`: among the protocols all members support, each member votes for its most
    /// preferred, and the most votes wins. Kafka breaks ties by hash order; we pick the tied protocol the
    /// oldest member prefers, so the choice is deterministic.
    func selectProtocol() -> String? {
        let candidates = candidateProtocols
        var votes: [String: Int] = [:]
        for member in members {
            if let vote = member.vote(among: candidates) { votes[vote, default: 0] += 1 }
        }
        guard let best = votes.values.max() else { return nil }
        let tied = Set(votes.filter { $0.value == best }.keys)
        return members.first?.protocols.first { tied.contains($0.name) }?.name ?? tied.sorted().first
    }

    // MARK: Answers

    /// An answer to a parked JoinGroup, fitted to the call's version: before v7 the protocol name is not
    /// nullable on the wire, so Kafka sends "" for none.
    static func joinAnswer(_ call: ClassicGroupMember.ParkedCall, _ response: JoinGroupResponse) -> ParkedAnswer<JoinGroupResponse> {
        var response = response
        if call.apiVersion < 7 && response.protocolName == nil { response.protocolName = "" }
        return ParkedAnswer(call.requestID, response)
    }

    static func syncAnswer(_ call: ClassicGroupMember.ParkedCall, _ response: SyncGroupResponse) -> ParkedAnswer<SyncGroupResponse> {
        ParkedAnswer(call.requestID, response)
    }

    /// Kafka's member id: the instance id (static members) or client id, a dash, and a random UUID.
    static func newMemberId<R: RandomNumberGenerator>(clientId: String, groupInstanceId: String?, using random: inout R) -> String {
        (groupInstanceId ?? clientId) + "-" + JavaUUID.random(using: &random)
    }
}
