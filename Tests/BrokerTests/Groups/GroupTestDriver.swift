import MartletBroker
import MartletProtocol
import MartletReplication
import NIOCore
import Testing

/// A minimal driver for the pure coordinator: it hands out request ids, keeps the clock, "appends" every
/// record it is given and files every answer, checking that each parked call is answered exactly once.
struct GroupTestDriver {
    var state: GroupCoordinatorState
    var now: Int64 = 0
    var nextRequestID: UInt64 = 1
    var log: [GroupCoordinatorRecord] = []
    var joinAnswers: [GroupRequestID: JoinGroupResponse] = [:]
    var syncAnswers: [GroupRequestID: SyncGroupResponse] = [:]
    let groupId: String

    init(groupId: String = "g", config: GroupCoordinatorConfig = GroupCoordinatorConfig(), seed: UInt64 = 42) {
        self.groupId = groupId
        self.state = GroupCoordinatorState(config: config, random: SplitMix64(seed: seed))
    }

    var group: ClassicGroup? { state.group(groupId) }

    mutating func absorb(_ effects: GroupEffects) {
        log += effects.records
        for answer in effects.joinResponses {
            #expect(joinAnswers[answer.requestID] == nil, "join \(answer.requestID) answered twice")
            joinAnswers[answer.requestID] = answer.response
        }
        for answer in effects.syncResponses {
            #expect(syncAnswers[answer.requestID] == nil, "sync \(answer.requestID) answered twice")
            syncAnswers[answer.requestID] = answer.response
        }
    }

    mutating func newRequestID() -> GroupRequestID {
        defer { nextRequestID += 1 }
        return GroupRequestID(nextRequestID)
    }

    /// Sends a JoinGroup; returns the id its answer comes under.
    @discardableResult
    mutating func join(
        memberId: String = "", clientId: String = "client", instanceId: String? = nil, protocolType: String = "consumer",
        protocols: [(String, ByteBuffer)] = [("range", consumerSubscription(["orders"]))], version: Int16 = 9,
        sessionTimeoutMs: Int32 = 10_000, rebalanceTimeoutMs: Int32 = 30_000, group: String? = nil
    ) -> GroupRequestID {
        let id = newRequestID()
        let request = JoinGroupRequest(
            groupId: group ?? groupId, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs,
            memberId: memberId, groupInstanceId: instanceId, protocolType: protocolType,
            protocols: protocols.map { .init(name: $0.0, metadata: $0.1) })
        absorb(state.join(JoinGroupCall(request, requestID: id, apiVersion: version, clientId: clientId, clientHost: "/127.0.0.1"), now: now))
        return id
    }

    /// A dynamic member's first join (v4+): MEMBER_ID_REQUIRED, then the rejoin with the id, which parks.
    /// Returns the member id and the id of the parked rejoin.
    mutating func joinNew(
        clientId: String = "client", protocols: [(String, ByteBuffer)] = [("range", consumerSubscription(["orders"]))],
        sessionTimeoutMs: Int32 = 10_000, rebalanceTimeoutMs: Int32 = 30_000
    ) -> (memberId: String, request: GroupRequestID) {
        let first = join(clientId: clientId, protocols: protocols, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs)
        let answer = joinAnswers[first]!
        #expect(answer.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
        let second = join(memberId: answer.memberId, clientId: clientId, protocols: protocols,
                          sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeoutMs)
        return (answer.memberId, second)
    }

    @discardableResult
    mutating func sync(memberId: String, generation: Int32, instanceId: String? = nil, assignments: [(String, ByteBuffer)] = [], version: Int16 = 5) -> GroupRequestID {
        let id = newRequestID()
        let request = SyncGroupRequest(
            groupId: groupId, generationId: generation, memberId: memberId, groupInstanceId: instanceId,
            protocolType: nil, protocolName: nil, assignments: assignments.map { .init(memberId: $0.0, assignment: $0.1) })
        absorb(state.sync(SyncGroupCall(request, requestID: id, apiVersion: version), now: now))
        return id
    }

    mutating func heartbeat(memberId: String, generation: Int32, instanceId: String? = nil) -> KafkaErrorCode {
        let response = state.heartbeat(HeartbeatRequest(groupId: groupId, generationId: generation, memberId: memberId, groupInstanceId: instanceId), now: now)
        return KafkaErrorCode(rawValue: response.errorCode)!
    }

    mutating func leave(_ members: [LeaveGroupRequest.MemberIdentity], version: Int16 = 5) -> LeaveGroupResponse {
        let outcome = state.leave(LeaveGroupRequest(groupId: groupId, members: members), apiVersion: version, now: now)
        absorb(outcome.effects)
        return outcome.response
    }

    mutating func commit(
        memberId: String = "", generation: Int32 = -1, instanceId: String? = nil,
        _ offsets: [(topic: String, partition: Int32, offset: Int64, metadata: String?)], version: Int16 = 9,
        retentionTimeMs: Int64 = -1
    ) -> [Int16] {
        let topics = Dictionary(grouping: offsets, by: \.topic).keys.sorted().map { topic in
            OffsetCommitRequest.OffsetCommitRequestTopic(name: topic, partitions: offsets.filter { $0.topic == topic }.map {
                .init(partitionIndex: $0.partition, committedOffset: $0.offset, committedLeaderEpoch: 3, committedMetadata: $0.metadata)
            })
        }
        let outcome = state.commitOffsets(OffsetCommitRequest(
            groupId: groupId, generationIdOrMemberEpoch: generation, memberId: memberId, groupInstanceId: instanceId,
            retentionTimeMs: retentionTimeMs, topics: topics), apiVersion: version, now: now)
        absorb(outcome.effects)
        return outcome.response.topics.flatMap { $0.partitions.map(\.errorCode) }
    }

    /// Moves the clock and fires what is due.
    mutating func advance(to time: Int64) {
        now = time
        absorb(state.tick(now: now))
    }

    /// Three-step setup used by many tests: `count` dynamic members join, the initial delay runs out, all
    /// sync, the leader assigning `assignment(i)` to member i. Returns member ids in join order.
    mutating func stableGroup(
        count: Int, protocols: [(String, ByteBuffer)] = [("range", consumerSubscription(["orders"]))],
        assignment: (Int) -> ByteBuffer = { ByteBuffer(string: "assignment-\($0)") }
    ) -> [String] {
        let joined = (0..<count).map { joinNew(clientId: "client-\($0)", protocols: protocols) }
        advance(to: now + state.config.initialRebalanceDelayMs)
        if group?.state == .preparingRebalance { advance(to: group!.nextDeadlineMs!) }
        let generation = group!.generationId
        let ids = joined.map(\.memberId)
        let leader = group!.leaderId!
        for id in ids where id != leader { sync(memberId: id, generation: generation) }
        sync(memberId: leader, generation: generation, assignments: ids.enumerated().map { ($0.element, assignment($0.offset)) })
        #expect(group?.state == .stable)
        return ids
    }
}

/// ConsumerProtocolSubscription bytes as a Java consumer sends them: int16 version, then the struct.
func consumerSubscription(_ topics: [String], version: Int16 = 1) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(version, endianness: .big)
    try! ConsumerProtocolSubscription(topics: topics).encode(into: &buffer, version: version)
    return buffer
}
