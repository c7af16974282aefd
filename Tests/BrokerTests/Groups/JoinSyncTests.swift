import MartletBroker
import MartletProtocol
import NIOCore
import Testing

@Suite("Classic group: join and sync")
struct JoinSyncTests {
    @Test("three members join, one rebalance, the leader sees everyone, sync hands out each assignment")
    func threeMembersOneRebalance() throws {
        var driver = GroupTestDriver()
        let a = driver.joinNew(clientId: "a", protocols: [("range", consumerSubscription(["orders"]))])
        driver.now = 100
        let b = driver.joinNew(clientId: "b", protocols: [("range", consumerSubscription(["orders", "payments"]))])
        driver.now = 200
        let c = driver.joinNew(clientId: "c", protocols: [("range", consumerSubscription(["audit"]))])
        #expect(driver.group?.state == .preparingRebalance)
        #expect(driver.joinAnswers[a.request] == nil, "JoinGroup is parked until the join phase completes")

        // The initial delay (3 s) ends with new members having arrived: it is extended once more.
        driver.advance(to: 3_000)
        #expect(driver.group?.state == .preparingRebalance)
        #expect(driver.group?.nextDeadlineMs == 6_000)
        driver.advance(to: 6_000)
        #expect(driver.group?.state == .completingRebalance)
        #expect(driver.group?.generationId == 1)

        let answers = try [a, b, c].map { try #require(driver.joinAnswers[$0.request]) }
        #expect(answers.allSatisfy { $0.errorCode == 0 && $0.generationId == 1 && $0.protocolName == "range" && $0.protocolType == "consumer" })
        #expect(answers.allSatisfy { $0.leader == a.memberId })
        #expect(answers[0].members.map(\.memberId) == [a.memberId, b.memberId, c.memberId])
        #expect(answers[0].members[1].metadata == consumerSubscription(["orders", "payments"]))
        #expect(answers[1].members.isEmpty && answers[2].members.isEmpty, "only the leader gets the member list")
        #expect(answers.map(\.memberId) == [a.memberId, b.memberId, c.memberId])

        // Followers' SyncGroup waits for the leader's.
        let syncB = driver.sync(memberId: b.memberId, generation: 1)
        let syncC = driver.sync(memberId: c.memberId, generation: 1)
        #expect(driver.syncAnswers[syncB] == nil)
        let recordsBefore = driver.log.count
        let syncA = driver.sync(memberId: a.memberId, generation: 1, assignments: [
            (a.memberId, ByteBuffer(string: "A")), (b.memberId, ByteBuffer(string: "B")), (c.memberId, ByteBuffer()),
        ])
        #expect(driver.group?.state == .stable)
        #expect(driver.syncAnswers[syncA]?.assignment == ByteBuffer(string: "A"))
        #expect(driver.syncAnswers[syncB]?.assignment == ByteBuffer(string: "B"))
        let emptyForC = try #require(driver.syncAnswers[syncC])
        #expect(emptyForC.errorCode == 0 && emptyForC.assignment.readableBytes == 0 && emptyForC.protocolName == "range",
                "an empty assignment is handed over as empty bytes, not as an error")

        // The assignment is persisted with the generation.
        #expect(driver.log.count == recordsBefore + 1)
        guard case .groupMetadata(let key, let value?) = driver.log.last else { Issue.record("no group record"); return }
        #expect(key.group == "g")
        #expect(value.generation == 1 && value.protocol == "range" && value.leader == a.memberId)
        #expect(value.members.map(\.assignment) == [ByteBuffer(string: "A"), ByteBuffer(string: "B"), ByteBuffer()])
        #expect(value.members[1].subscription == consumerSubscription(["orders", "payments"]))
        #expect(driver.group?.subscribedTopics == ["orders", "payments", "audit"])
    }

    @Test("v4+ first join gets MEMBER_ID_REQUIRED with a generated id; the group is created and persisted empty")
    func memberIdRequired() throws {
        var driver = GroupTestDriver()
        let first = driver.join(clientId: "rdkafka")
        let answer = try #require(driver.joinAnswers[first])
        #expect(answer.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
        // clientId-UUID, as java.util.UUID prints it
        let parts = answer.memberId.split(separator: "-").map(String.init)
        #expect(parts.first == "rdkafka")
        #expect(parts.dropFirst().map(\.count) == [8, 4, 4, 4, 12])
        #expect(parts[3].first == "4", "version-4 UUID")
        #expect(driver.group?.state == .empty)
        #expect(driver.group?.isPendingMember(answer.memberId) == true)
        guard case .groupMetadata(_, let value?) = driver.log.first else { Issue.record("no record"); return }
        #expect(value.members.isEmpty && value.generation == 0 && value.protocol == nil)

        // Rejoining with the id adds the member.
        driver.join(memberId: answer.memberId, clientId: "rdkafka")
        #expect(driver.group?.hasMember(answer.memberId) == true)
        #expect(driver.group?.state == .preparingRebalance)
    }

    @Test("a member id handed out and never used expires after the session timeout")
    func pendingMemberExpires() throws {
        var driver = GroupTestDriver()
        let first = driver.join(sessionTimeoutMs: 10_000)
        let memberId = try #require(driver.joinAnswers[first]).memberId
        driver.advance(to: 9_999)
        #expect(driver.group?.isPendingMember(memberId) == true)
        driver.advance(to: 10_000)
        #expect(driver.group?.isPendingMember(memberId) == false)
        let late = driver.join(memberId: memberId)
        #expect(driver.joinAnswers[late]?.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
    }

    @Test("JoinGroup v0-3 adds the member at once")
    func oldJoinAddsDirectly() throws {
        var driver = GroupTestDriver()
        let request = driver.join(clientId: "old", version: 3)
        #expect(driver.joinAnswers[request] == nil)
        #expect(driver.group?.memberCount == 1)
        driver.advance(to: 3_000)
        let answer = try #require(driver.joinAnswers[request])
        #expect(answer.errorCode == 0 && answer.generationId == 1 && answer.memberId.hasPrefix("old-"))
        #expect(answer.protocolName == "range")
    }

    @Test("answers fit the version they answer: no null protocol name before JoinGroup v7")
    func answersEncodeAtTheirVersion() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)
        let unknown = driver.join(memberId: "stranger", version: 6)
        let inconsistent = driver.join(memberId: ids[0], protocolType: "connect", version: 2)
        for request in [unknown, inconsistent] {
            let answer = try #require(driver.joinAnswers[request])
            #expect(answer.errorCode != 0 && answer.protocolName == "")
        }
        let version6 = try #require(driver.joinAnswers[unknown])
        #expect(throws: Never.self) { try version6.encoded(version: 6) }
        let modern = driver.join(memberId: "stranger", version: 9)
        #expect(driver.joinAnswers[modern]?.protocolName == nil)
    }

    @Test("session timeout outside [6000, 1800000] is INVALID_SESSION_TIMEOUT")
    func invalidSessionTimeout() {
        var driver = GroupTestDriver()
        let low = driver.join(sessionTimeoutMs: 5_999)
        let high = driver.join(sessionTimeoutMs: 1_800_001)
        let edge = driver.join(sessionTimeoutMs: 6_000)
        #expect(driver.joinAnswers[low]?.errorCode == KafkaErrorCode.invalidSessionTimeout.rawValue)
        #expect(driver.joinAnswers[high]?.errorCode == KafkaErrorCode.invalidSessionTimeout.rawValue)
        #expect(driver.joinAnswers[edge]?.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
    }

    @Test("an empty group id is INVALID_GROUP_ID; a member id for an unknown group is UNKNOWN_MEMBER_ID")
    func badGroupOrMember() {
        var driver = GroupTestDriver()
        let empty = driver.join(group: "")
        let stale = driver.join(memberId: "client-gone", group: "elsewhere")
        #expect(driver.joinAnswers[empty]?.errorCode == KafkaErrorCode.invalidGroupId.rawValue)
        #expect(driver.joinAnswers[stale]?.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
        #expect(driver.state.group("elsewhere") == nil)
    }

    @Test("group.max.size turns away members beyond it with GROUP_MAX_SIZE_REACHED")
    func groupMaxSize() throws {
        var config = GroupCoordinatorConfig()
        config.maxSize = 2
        var driver = GroupTestDriver(config: config)
        _ = driver.joinNew(clientId: "a")
        _ = driver.joinNew(clientId: "b")
        // Turned away before it even gets a member id.
        let third = driver.join(clientId: "c")
        let answer = try #require(driver.joinAnswers[third])
        #expect(answer.errorCode == KafkaErrorCode.groupMaxSizeReached.rawValue && answer.memberId == "")
        #expect(driver.group?.memberCount == 2)

        // Once Stable, existing members still rejoin; newcomers are still refused.
        driver.advance(to: 3_000)
        driver.advance(to: 6_000)
        let ids = driver.group!.members.map(\.memberId)
        driver.sync(memberId: ids[0], generation: 1)
        #expect(driver.group?.state == .stable)
        let late = driver.join(clientId: "d")
        #expect(driver.joinAnswers[late]?.errorCode == KafkaErrorCode.groupMaxSizeReached.rawValue)
        let member = driver.join(memberId: ids[1])
        #expect(driver.joinAnswers[member]?.errorCode == 0)
    }

    @Test("a follower rejoining a Stable group unchanged gets the current generation without a rebalance")
    func followerRejoinUnchanged() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        let again = driver.join(memberId: ids[1])
        let answer = try #require(driver.joinAnswers[again])
        #expect(answer.errorCode == 0 && answer.generationId == 1 && answer.members.isEmpty)
        #expect(driver.group?.state == .stable)
    }

    @Test("the leader rejoining a Stable group starts a rebalance")
    func leaderRejoinRebalances() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        let leaderJoin = driver.join(memberId: ids[0])
        #expect(driver.group?.state == .preparingRebalance)
        #expect(driver.heartbeat(memberId: ids[1], generation: 1) == .rebalanceInProgress)
        let followerJoin = driver.join(memberId: ids[1])
        #expect(driver.group?.state == .completingRebalance, "everyone rejoined: the join phase completes at once")
        #expect(driver.joinAnswers[leaderJoin]?.generationId == 2)
        #expect(driver.joinAnswers[leaderJoin]?.members.count == 2)
        #expect(driver.joinAnswers[followerJoin]?.generationId == 2)
    }

    @Test("SyncGroup: wrong generation, unknown member, during rebalance")
    func syncErrors() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        let stale = driver.sync(memberId: ids[1], generation: 0)
        let unknown = driver.sync(memberId: "nobody", generation: 1)
        #expect(driver.syncAnswers[stale]?.errorCode == KafkaErrorCode.illegalGeneration.rawValue)
        #expect(driver.syncAnswers[unknown]?.errorCode == KafkaErrorCode.unknownMemberId.rawValue)

        // Stable: a late follower sync gets its assignment straight away.
        let late = driver.sync(memberId: ids[1], generation: 1)
        #expect(driver.syncAnswers[late]?.assignment == ByteBuffer(string: "assignment-1"))

        driver.join(memberId: ids[0])
        let during = driver.sync(memberId: ids[1], generation: 1)
        #expect(driver.syncAnswers[during]?.errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)

        var other = GroupTestDriver(groupId: "none")
        let missing = other.sync(memberId: "x", generation: 1)
        #expect(other.syncAnswers[missing]?.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
    }

    @Test("a member that never sends SyncGroup is dropped after the rebalance timeout")
    func syncTimeout() throws {
        var driver = GroupTestDriver()
        let a = driver.joinNew(clientId: "a", rebalanceTimeoutMs: 20_000)
        let b = driver.joinNew(clientId: "b", rebalanceTimeoutMs: 20_000)
        driver.advance(to: 3_000)
        driver.advance(to: 6_000)
        #expect(driver.group?.state == .completingRebalance)
        let syncA = driver.sync(memberId: a.memberId, generation: 1, assignments: [(a.memberId, ByteBuffer(string: "A"))])
        #expect(driver.syncAnswers[syncA]?.assignment == ByteBuffer(string: "A"))
        #expect(driver.group?.state == .stable)
        // Both stay alive, but b never syncs.
        for time: Int64 in [15_000, 24_000] {
            driver.advance(to: time)
            #expect(driver.heartbeat(memberId: a.memberId, generation: 1) == .none)
            #expect(driver.heartbeat(memberId: b.memberId, generation: 1) == .none)
        }
        driver.advance(to: 25_999)
        #expect(driver.group?.hasMember(b.memberId) == true)
        driver.advance(to: 26_000)
        #expect(driver.group?.hasMember(b.memberId) == false)
        #expect(driver.group?.hasMember(a.memberId) == true)
        #expect(driver.group?.state == .preparingRebalance)
    }
}
