import MartletBroker
import MartletProtocol
import NIOCore
import Testing

@Suite("Classic group: static membership")
struct StaticMembershipTests {
    /// Two static members "i-a" (leader) and "i-b", Stable at generation 1 from t=6000.
    func staticGroup(_ driver: inout GroupTestDriver, protocols: [(String, ByteBuffer)] = [("range", consumerSubscription(["t"]))]) throws -> (a: String, b: String) {
        let ja = driver.join(clientId: "ca", instanceId: "i-a", protocols: protocols)
        let jb = driver.join(clientId: "cb", instanceId: "i-b", protocols: protocols)
        #expect(driver.joinAnswers[ja] == nil, "static members skip MEMBER_ID_REQUIRED")
        driver.advance(to: 3_000)
        driver.advance(to: 6_000)
        let a = try #require(driver.joinAnswers[ja]).memberId
        let b = try #require(driver.joinAnswers[jb]).memberId
        #expect(a.hasPrefix("i-a-") && b.hasPrefix("i-b-"), "a static member's id starts with its instance id")
        driver.sync(memberId: b, generation: 1, instanceId: "i-b")
        driver.sync(memberId: a, generation: 1, instanceId: "i-a", assignments: [(a, ByteBuffer(string: "A")), (b, ByteBuffer(string: "B"))])
        #expect(driver.group?.state == .stable)
        return (a, b)
    }

    @Test("a restarted static member takes its old place and assignment without a rebalance (v9 leader)")
    func rejoinWithoutRebalanceV9() throws {
        var driver = GroupTestDriver()
        let (a, b) = try staticGroup(&driver)
        driver.now = 7_000
        let records = driver.log.count
        let rejoin = driver.join(clientId: "ca", instanceId: "i-a", protocols: [("range", consumerSubscription(["t"]))])
        let answer = try #require(driver.joinAnswers[rejoin])
        #expect(answer.errorCode == 0)
        #expect(answer.memberId.hasPrefix("i-a-") && answer.memberId != a)
        #expect(answer.generationId == 1)
        #expect(answer.leader == answer.memberId && answer.skipAssignment, "v9: the leader keeps the current assignment")
        #expect(answer.members.map(\.memberId) == [answer.memberId, b])
        #expect(driver.group?.state == .stable && driver.group?.generationId == 1)

        // The new member id is persisted, with the assignment unchanged.
        #expect(driver.log.count == records + 1)
        guard case .groupMetadata(_, let value?) = driver.log.last else { Issue.record("no record"); return }
        #expect(value.members.map(\.memberId) == [answer.memberId, b])
        #expect(value.members.map(\.assignment) == [ByteBuffer(string: "A"), ByteBuffer(string: "B")])

        let sync = driver.sync(memberId: answer.memberId, generation: 1, instanceId: "i-a")
        #expect(driver.syncAnswers[sync]?.assignment == ByteBuffer(string: "A"))
        #expect(driver.heartbeat(memberId: answer.memberId, generation: 1, instanceId: "i-a") == .none)
    }

    @Test("pre-v9: a restarted static leader is told the old leader id, so it stays a follower")
    func rejoinWithoutRebalanceOldVersion() throws {
        var driver = GroupTestDriver()
        let (a, _) = try staticGroup(&driver)
        driver.now = 7_000
        let rejoin = driver.join(clientId: "ca", instanceId: "i-a", protocols: [("range", consumerSubscription(["t"]))], version: 5)
        let answer = try #require(driver.joinAnswers[rejoin])
        #expect(answer.errorCode == 0 && answer.generationId == 1)
        #expect(answer.leader == a && answer.members.isEmpty && !answer.skipAssignment)
        #expect(driver.group?.leaderId == answer.memberId)
        #expect(driver.group?.state == .stable)
    }

    @Test("the old member id of a replaced static member is fenced")
    func fencedInstance() throws {
        var driver = GroupTestDriver()
        let (a, _) = try staticGroup(&driver)
        driver.now = 7_000
        let rejoin = driver.join(clientId: "ca", instanceId: "i-a", protocols: [("range", consumerSubscription(["t"]))])
        #expect(driver.joinAnswers[rejoin]?.errorCode == 0)

        #expect(driver.heartbeat(memberId: a, generation: 1, instanceId: "i-a") == .fencedInstanceId)
        #expect(driver.heartbeat(memberId: a, generation: 1) == .unknownMemberId)
        let staleJoin = driver.join(memberId: a, instanceId: "i-a", protocols: [("range", consumerSubscription(["t"]))])
        #expect(driver.joinAnswers[staleJoin]?.errorCode == KafkaErrorCode.fencedInstanceId.rawValue)
        let staleSync = driver.sync(memberId: a, generation: 1, instanceId: "i-a")
        #expect(driver.syncAnswers[staleSync]?.errorCode == KafkaErrorCode.fencedInstanceId.rawValue)
        #expect(driver.commit(memberId: a, generation: 1, instanceId: "i-a", [("t", 0, 5, nil)]) == [KafkaErrorCode.fencedInstanceId.rawValue])
        #expect(driver.group?.state == .stable)
    }

    @Test("a static member rejoining with protocols that change the group's choice triggers a rebalance")
    func rejoinWithProtocolChange() throws {
        var driver = GroupTestDriver()
        let m = consumerSubscription(["t"])
        _ = try staticGroup(&driver, protocols: [("range", m), ("roundrobin", m)])
        #expect(driver.group?.protocolName == "range")
        driver.now = 7_000
        let rejoin = driver.join(clientId: "ca", instanceId: "i-a", protocols: [("roundrobin", m)])
        #expect(driver.joinAnswers[rejoin] == nil, "parked: a rebalance is under way")
        #expect(driver.group?.state == .preparingRebalance)
    }

    @Test("a static member that does not rejoin keeps its place through a rebalance")
    func staticMemberKeptThroughRebalance() throws {
        var driver = GroupTestDriver()
        let (a, b) = try staticGroup(&driver)
        driver.now = 7_000
        let leaderJoin = driver.join(memberId: a, instanceId: "i-a", protocols: [("range", consumerSubscription(["t"]))])
        for time: Int64 in [10_000, 19_000, 28_000, 36_000] {
            driver.advance(to: time)
            #expect(driver.heartbeat(memberId: b, generation: 1, instanceId: "i-b") == .rebalanceInProgress)
        }
        driver.advance(to: 37_000)
        let answer = try #require(driver.joinAnswers[leaderJoin])
        #expect(answer.generationId == 2 && answer.members.map(\.memberId) == [a, b])
        #expect(driver.group?.hasMember(b) == true)
    }

    @Test("an admin removes a static member by instance id alone")
    func removeByInstanceId() throws {
        var driver = GroupTestDriver()
        let (_, b) = try staticGroup(&driver)
        let response = driver.leave([.init(memberId: "", groupInstanceId: "i-b"), .init(memberId: "", groupInstanceId: "i-zzz")])
        #expect(response.members.map(\.errorCode) == [0, KafkaErrorCode.unknownMemberId.rawValue])
        #expect(driver.group?.hasMember(b) == false)
        #expect(driver.group?.staticMemberId("i-b") == nil)
        #expect(driver.group?.state == .preparingRebalance)
    }
}
