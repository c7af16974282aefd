import MartletBroker
import MartletProtocol
import NIOCore
import Testing

@Suite("Classic group: membership changes")
struct MembershipTests {
    @Test("a member leaves: the group rebalances and the rest form the next generation")
    func leaveRebalances() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 3)
        let response = driver.leave([.init(memberId: ids[1], reason: "shutdown")])
        #expect(response.errorCode == 0)
        #expect(response.members.map(\.errorCode) == [0])
        #expect(driver.group?.state == .preparingRebalance)
        #expect(driver.heartbeat(memberId: ids[0], generation: 1) == .rebalanceInProgress)

        let j0 = driver.join(memberId: ids[0])
        let j2 = driver.join(memberId: ids[2])
        #expect(driver.group?.state == .completingRebalance)
        #expect(driver.joinAnswers[j0]?.generationId == 2)
        #expect(driver.joinAnswers[j0]?.members.map(\.memberId) == [ids[0], ids[2]])
        #expect(driver.joinAnswers[j2]?.members.isEmpty == true)
    }

    @Test("LeaveGroup v3+ batches members, each with its own error; v0-2 answer at the top level")
    func leaveBatch() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 3)
        let response = driver.leave([.init(memberId: ids[0]), .init(memberId: "stranger"), .init(memberId: ids[2])])
        #expect(response.members.map(\.errorCode) == [0, KafkaErrorCode.unknownMemberId.rawValue, 0])
        #expect(driver.group?.memberCount == 1)

        let old = driver.state.leave(LeaveGroupRequest(groupId: "g", memberId: "stranger"), apiVersion: 2, now: driver.now)
        #expect(old.response.errorCode == KafkaErrorCode.unknownMemberId.rawValue && old.response.members.isEmpty)
        let unknownGroup = driver.state.leave(LeaveGroupRequest(groupId: "nope", members: [.init(memberId: "m")]), apiVersion: 3, now: driver.now)
        #expect(unknownGroup.response.errorCode == KafkaErrorCode.unknownMemberId.rawValue)
    }

    @Test("the last member leaving empties the group, which is persisted")
    func lastMemberLeaves() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)
        _ = driver.leave([.init(memberId: ids[0])])
        #expect(driver.group?.state == .empty)
        #expect(driver.group?.generationId == 2)
        guard case .groupMetadata(_, let value?) = driver.log.last else { Issue.record("no record"); return }
        #expect(value.members.isEmpty && value.generation == 2 && value.protocolType == "consumer" && value.protocol == nil)
    }

    @Test("a member that stops heartbeating is removed after its session timeout, then the group rebalances")
    func sessionExpiry() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)   // the initial delay was extended once: stable at t=6000
        for time: Int64 in stride(from: 9_000, through: 15_000, by: 3_000) {
            driver.advance(to: time)
            #expect(driver.heartbeat(memberId: ids[0], generation: 1) == .none)
        }
        #expect(driver.group?.hasMember(ids[1]) == true)
        // ids[1] went silent at 6000: gone at 16000.
        driver.advance(to: 16_000)
        #expect(driver.group?.hasMember(ids[1]) == false)
        #expect(driver.group?.state == .preparingRebalance)
        let rejoin = driver.join(memberId: ids[0])
        #expect(driver.joinAnswers[rejoin]?.generationId == 2)
        #expect(driver.joinAnswers[rejoin]?.members.map(\.memberId) == [ids[0]])
    }

    @Test("expiry happens exactly at the deadline and a heartbeat pushes it back")
    func heartbeatExtendsSession() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)
        #expect(driver.group?.member(ids[0])?.heartbeatDeadlineMs == 13_000)
        driver.advance(to: 12_999)
        #expect(driver.heartbeat(memberId: ids[0], generation: 1) == .none)
        #expect(driver.group?.member(ids[0])?.heartbeatDeadlineMs == 22_999)
        driver.advance(to: 22_998)
        #expect(driver.group?.hasMember(ids[0]) == true)
        driver.advance(to: 22_999)
        #expect(driver.group?.state == .empty)
    }

    @Test("members that do not rejoin within the rebalance timeout are removed")
    func rebalanceTimeoutRemovesLaggards() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 3)    // rebalance timeout 30 s
        driver.now = 7_000
        let leaderJoin = driver.join(memberId: ids[0])
        let j1 = driver.join(memberId: ids[1])
        #expect(driver.group?.nextDeadlineMs == 16_000, "sessions still run")
        // ids[2] keeps heartbeating (told to rejoin) but never does.
        for time: Int64 in stride(from: 10_000, through: 34_000, by: 3_000) {
            driver.advance(to: time)
            #expect(driver.heartbeat(memberId: ids[2], generation: 1) == .rebalanceInProgress)
        }
        #expect(driver.joinAnswers[leaderJoin] == nil)
        driver.advance(to: 36_999)
        #expect(driver.joinAnswers[leaderJoin] == nil)
        driver.advance(to: 37_000)
        #expect(driver.group?.hasMember(ids[2]) == false)
        #expect(driver.group?.state == .completingRebalance)
        #expect(driver.joinAnswers[leaderJoin]?.members.map(\.memberId) == [ids[0], ids[1]])
        #expect(driver.joinAnswers[j1]?.generationId == 2)
        #expect(driver.heartbeat(memberId: ids[2], generation: 1) == .unknownMemberId)
    }

    @Test("a leader that does not rejoin is replaced by a member that did")
    func leaderReplacedIfAbsent() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        driver.now = 7_000
        let j1 = driver.join(memberId: ids[1], protocols: [("range", consumerSubscription(["orders", "new-topic"]))])
        #expect(driver.group?.state == .preparingRebalance)
        for time: Int64 in [10_000, 19_000, 28_000, 36_000] {
            driver.advance(to: time)
            #expect(driver.heartbeat(memberId: ids[0], generation: 1) == .rebalanceInProgress)
        }
        #expect(driver.joinAnswers[j1] == nil)
        driver.advance(to: 37_000)
        let answer = try #require(driver.joinAnswers[j1])
        #expect(answer.leader == ids[1] && answer.members.map(\.memberId) == [ids[1]])
    }

    @Test("heartbeat: illegal generation, unknown member, unknown group")
    func heartbeatErrors() {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)
        #expect(driver.heartbeat(memberId: ids[0], generation: 0) == .illegalGeneration)
        #expect(driver.heartbeat(memberId: "who", generation: 1) == .unknownMemberId)
        var other = GroupTestDriver(groupId: "missing")
        #expect(other.heartbeat(memberId: "who", generation: 1) == .unknownMemberId)
    }

    @Test("INCONSISTENT_GROUP_PROTOCOL for another protocol type or no protocol in common")
    func inconsistentProtocol() throws {
        var driver = GroupTestDriver()
        _ = driver.joinNew(clientId: "a", protocols: [("range", consumerSubscription(["t"])), ("roundrobin", consumerSubscription(["t"]))])
        let otherType = driver.join(clientId: "b", protocolType: "connect", protocols: [("range", ByteBuffer())])
        let noCommon = driver.join(clientId: "c", protocols: [("sticky", consumerSubscription(["t"]))])
        let noneAtAll = driver.join(clientId: "d", protocols: [])
        for id in [otherType, noCommon, noneAtAll] {
            #expect(driver.joinAnswers[id]?.errorCode == KafkaErrorCode.inconsistentGroupProtocol.rawValue)
        }
        let common = driver.join(clientId: "e", protocols: [("sticky", consumerSubscription(["t"])), ("roundrobin", consumerSubscription(["t"]))])
        #expect(driver.joinAnswers[common]?.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
    }

    @Test("the protocol every member supports with the most first-choice votes wins")
    func protocolSelectionByVotes() throws {
        var driver = GroupTestDriver()
        let m = consumerSubscription(["t"])
        let a = driver.joinNew(clientId: "a", protocols: [("range", m), ("roundrobin", m), ("sticky", m)])
        let b = driver.joinNew(clientId: "b", protocols: [("roundrobin", m), ("range", m), ("sticky", m)])
        let c = driver.joinNew(clientId: "c", protocols: [("sticky", m), ("roundrobin", m), ("range", m)])
        let d = driver.joinNew(clientId: "d", protocols: [("cooperative-sticky", m), ("roundrobin", m), ("range", m)])
        driver.advance(to: 3_000)
        driver.advance(to: 6_000)
        // Candidates (all support): range, roundrobin. Votes: a range; b roundrobin; c roundrobin (sticky
        // is not supported by d); d roundrobin.
        #expect(driver.group?.protocolName == "roundrobin")
        #expect(driver.joinAnswers[a.request]?.protocolName == "roundrobin")
        #expect(driver.joinAnswers[a.request]?.members.map(\.metadata) == [m, m, m, m])
        _ = (b, c, d)
    }

    @Test("cooperative rebalancing: assignments pass through unchanged across generations")
    func cooperativePassThrough() throws {
        var driver = GroupTestDriver()
        let proto = [("cooperative-sticky", consumerSubscription(["t"]))]
        let ids = driver.stableGroup(count: 2, protocols: proto)
        let newcomer = driver.joinNew(clientId: "c", protocols: proto)
        #expect(driver.group?.state == .preparingRebalance)
        let j0 = driver.join(memberId: ids[0], protocols: proto)
        let j1 = driver.join(memberId: ids[1], protocols: proto)
        #expect(driver.group?.state == .completingRebalance)
        #expect(driver.joinAnswers[j0]?.members.count == 3)
        let s1 = driver.sync(memberId: ids[1], generation: 2)
        let s2 = driver.sync(memberId: newcomer.memberId, generation: 2)
        let s0 = driver.sync(memberId: ids[0], generation: 2, assignments: [
            (ids[0], ByteBuffer(bytes: [0, 3, 1])), (ids[1], ByteBuffer(bytes: [0, 3, 2])), (newcomer.memberId, ByteBuffer()),
        ])
        #expect(driver.syncAnswers[s0]?.assignment == ByteBuffer(bytes: [0, 3, 1]))
        #expect(driver.syncAnswers[s1]?.assignment == ByteBuffer(bytes: [0, 3, 2]))
        #expect(driver.syncAnswers[s2]?.assignment == ByteBuffer())
        _ = j1
    }

    @Test("unloading the partition answers parked calls with NOT_COORDINATOR")
    func unload() throws {
        var driver = GroupTestDriver()
        let a = driver.joinNew(clientId: "a")
        driver.absorb(driver.state.unload(now: 100))
        #expect(driver.joinAnswers[a.request]?.errorCode == KafkaErrorCode.notCoordinator.rawValue)
        #expect(driver.group?.state == .dead)
        #expect(driver.state.nextDeadlineMs == nil)
    }
}
