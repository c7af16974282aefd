import MartletProtocol
import NIOCore

/// A SyncGroup call: the request, the id the driver waits on, and the version to answer in.
public struct SyncGroupCall: Sendable {
    public var request: SyncGroupRequest
    public var requestID: GroupRequestID
    public var apiVersion: Int16

    public init(_ request: SyncGroupRequest, requestID: GroupRequestID, apiVersion: Int16) {
        self.request = request
        self.requestID = requestID
        self.apiVersion = apiVersion
    }

    var parked: ClassicGroupMember.ParkedCall { .init(requestID: requestID, apiVersion: apiVersion) }
}

extension ClassicGroup {
    /// Handles a SyncGroup (Kafka's `classicGroupSyncToClassicGroup`). Followers wait in
    /// CompletingRebalance until the leader's SyncGroup brings the assignment; the leader's call persists
    /// the group with it, moves the group to Stable and answers everyone waiting, each with the bytes the
    /// leader gave it, verbatim (empty bytes for a member the leader left out).
    mutating func sync(_ call: SyncGroupCall, now: Int64) -> GroupEffects {
        var effects = GroupEffects()
        let request = call.request
        let memberId = request.memberId
        func answer(_ error: KafkaErrorCode) {
            effects.syncResponses.append(Self.syncAnswer(call.parked, SyncGroupResponse(errorCode: error.rawValue)))
        }
        if let error = validateSync(request) {
            answer(error)
            return effects
        }
        switch state {
        case .preparingRebalance:
            answer(.rebalanceInProgress)
        case .completingRebalance:
            update(memberId) { member in
                if let old = member.awaitingSync {
                    effects.syncResponses.append(Self.syncAnswer(old, SyncGroupResponse(
                        errorCode: KafkaErrorCode.rebalanceInProgress.rawValue)))
                }
                member.awaitingSync = call.parked
            }
            receivedSync(from: memberId)
            if isLeader(memberId) {
                var assignments: [String: ByteBuffer] = [:]
                for entry in request.assignments { assignments[entry.memberId] = entry.assignment }
                for id in memberOrder { update(id) { $0.assignment = assignments[id] ?? ByteBuffer() } }
                effects.records.append(metadataRecord())
                propagateAssignment(error: .none, now: now, into: &effects)
                transition(to: .stable, now: now)
            }
        case .stable:
            receivedSync(from: memberId)
            let assignment = member(memberId)?.assignment ?? ByteBuffer()
            effects.syncResponses.append(Self.syncAnswer(call.parked, SyncGroupResponse(
                protocolType: protocolType, protocolName: protocolName, assignment: assignment)))
        case .empty, .dead:
            answer(.unknownMemberId)
        }
        return effects
    }

    private func validateSync(_ request: SyncGroupRequest) -> KafkaErrorCode? {
        if state == .dead { return .coordinatorNotAvailable }
        if let error = validateMember(request.memberId, groupInstanceId: request.groupInstanceId) { return error }
        if request.generationId != generationId { return .illegalGeneration }
        if let type = request.protocolType, type != protocolType { return .inconsistentGroupProtocol }
        if let name = request.protocolName, name != protocolName { return .inconsistentGroupProtocol }
        return nil
    }

    private mutating func receivedSync(from memberId: String) {
        pendingSyncMembers.remove(memberId)
        if pendingSyncMembers.isEmpty { syncTimer = nil }
    }
}
