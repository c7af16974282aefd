import Foundation
import Logging
@testable import MartletBroker
import MartletProtocol
import NIOCore
import Testing

/// The group handlers on a broker core over a real log directory, without sockets: the coordinator
/// creates and loads `__consumer_offsets`, parks joins until the rebalance completes, writes its records
/// before answering, fires session timeouts from its timer, and finds everything again after a restart.
@Suite struct GroupHandlerTests {
    /// A broker core and its group coordinator; `restart()` closes both and opens the same directory again.
    final class Node: @unchecked Sendable {
        let directory: String
        let settings: [(key: String, value: String)]
        var core: BrokerCore
        var groups: GroupCoordinator

        init(_ extra: [(String, String)] = []) async throws {
            directory = NSTemporaryDirectory() + "martlet-groups-\(UUID().uuidString)"
            settings = [
                ("node.id", "1"), ("log.dirs", directory), ("listeners", "PLAINTEXT://127.0.0.1:9092"),
                ("offsets.topic.replication.factor", "1"), ("offsets.topic.num.partitions", "5"),
                ("group.initial.rebalance.delay.ms", "0"),
            ].map { (key: $0.0, value: $0.1) } + extra.map { (key: $0.0, value: $0.1) }
            (core, groups) = try await Self.open(settings)
        }

        static func open(_ settings: [(key: String, value: String)]) async throws -> (BrokerCore, GroupCoordinator) {
            let core = try BrokerCore(config: try BrokerConfig(settings), logger: Logger(label: "test"))
            try await core.openPartitions()
            let groups = GroupCoordinator(broker: core)
            await groups.loadExistingTopic()
            return (core, groups)
        }

        func restart() async throws {
            await groups.shutdown()
            await core.replicas.shutdown()
            (core, groups) = try await Self.open(settings)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func context(_ version: Int16) -> RequestContext {
        RequestContext(apiVersion: version, correlationId: 1, clientId: "client-a", clientAddress: "in-process", clientHost: "/127.0.0.1")
    }

    static func respond<H: ApiHandler>(_ handler: H, _ request: H.Request, version: Int16) async throws -> H.Request.Response {
        guard case .respond(let response) = await handler.handle(request, context: context(version)) else {
            throw BrokerError(.unknownServerError, "no response")
        }
        return response
    }

    func findCoordinator(_ node: Node, _ group: String) async throws -> FindCoordinatorResponse {
        try await Self.respond(FindCoordinatorHandler(broker: node.core, groups: node.groups), FindCoordinatorRequest(key: group), version: 3)
    }

    func join(_ node: Node, _ group: String, memberId: String = "", sessionTimeoutMs: Int32 = 10_000) async throws -> JoinGroupResponse {
        let request = JoinGroupRequest(
            groupId: group, sessionTimeoutMs: sessionTimeoutMs, rebalanceTimeoutMs: 5_000, memberId: memberId, groupInstanceId: nil,
            protocolType: "consumer", protocols: [.init(name: "range", metadata: ByteBuffer(string: "subscription"))])
        return try await Self.respond(JoinGroupHandler(groups: node.groups), request, version: 7)
    }

    func sync(_ node: Node, _ group: String, _ joined: JoinGroupResponse, assignments: [(String, String)] = []) async throws -> SyncGroupResponse {
        let request = SyncGroupRequest(
            groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: nil,
            protocolType: "consumer", protocolName: "range",
            assignments: assignments.map { .init(memberId: $0.0, assignment: ByteBuffer(string: $0.1)) })
        return try await Self.respond(SyncGroupHandler(groups: node.groups), request, version: 5)
    }

    func commit(_ node: Node, _ group: String, generation: Int32 = -1, memberId: String = "", topic: String = "t", offsets: [Int32: Int64], metadata: String = "") async throws -> OffsetCommitResponse {
        let request = OffsetCommitRequest(
            groupId: group, generationIdOrMemberEpoch: generation, memberId: memberId, groupInstanceId: nil, retentionTimeMs: -1,
            topics: [.init(name: topic, partitions: offsets.keys.sorted().map {
                .init(partitionIndex: $0, committedOffset: offsets[$0]!, committedLeaderEpoch: -1, committedMetadata: metadata)
            })])
        return try await Self.respond(OffsetCommitHandler(broker: node.core, groups: node.groups), request, version: 8)
    }

    func fetchOffsets(_ node: Node, _ group: String) async throws -> [Int32: (Int64, String?)] {
        let request = OffsetFetchRequest(groups: [.init(groupId: group, memberId: nil, memberEpoch: -1, topics: nil)], requireStable: false)
        let response = try await Self.respond(OffsetFetchHandler(groups: node.groups), request, version: 8)
        var found: [Int32: (Int64, String?)] = [:]
        for topic in response.groups.first?.topics ?? [] {
            for partition in topic.partitions { found[partition.partitionIndex] = (partition.committedOffset, partition.metadata) }
        }
        return found
    }

    func describe(_ node: Node, _ group: String) async throws -> DescribeGroupsResponse.DescribedGroup {
        try await Self.respond(DescribeGroupsHandler(groups: node.groups), DescribeGroupsRequest(groups: [group]), version: 5).groups[0]
    }

    /// Polls DescribeGroups (bounded: 10 s) until the group is in `state`.
    func waitForState(_ node: Node, _ group: String, _ state: String) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await describe(node, group).groupState == state { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func theFirstLookupCreatesTheCompactedOffsetsTopicAndNamesThisNode() async throws {
        let node = try await Node()
        let before = try await Self.respond(HeartbeatHandler(groups: node.groups), HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m"), version: 4)
        #expect(before.errorCode == KafkaErrorCode.notCoordinator.rawValue)

        let found = try await findCoordinator(node, "g")
        #expect(found.errorCode == 0 && found.nodeId == 1 && found.host == "127.0.0.1" && found.port == 9092)
        let topic = try #require(await node.core.metadata.topic(named: "__consumer_offsets"))
        #expect(topic.partitionCount == 5 && topic.configs["cleanup.policy"] == "compact")

        let batched = try await Self.respond(
            FindCoordinatorHandler(broker: node.core, groups: node.groups),
            FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["a", "b"]), version: 4)
        #expect(batched.coordinators.map(\.key) == ["a", "b"] && batched.coordinators.allSatisfy { $0.errorCode == 0 && $0.nodeId == 1 })
        let transactional = try await Self.respond(
            FindCoordinatorHandler(broker: node.core, groups: node.groups), FindCoordinatorRequest(key: "tx", keyType: 1), version: 3)
        #expect(transactional.errorCode == KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue)
    }

    @Test func offsetsTopicCreationFailsWithoutEnoughBrokers() async throws {
        let node = try await Node([("offsets.topic.replication.factor", "3")])
        let found = try await findCoordinator(node, "g")
        #expect(found.errorCode == KafkaErrorCode.coordinatorNotAvailable.rawValue)
        #expect(await node.core.metadata.topic(named: "__consumer_offsets") == nil)
    }

    @Test func twoMembersJoinSyncCommitAndEverythingSurvivesARestart() async throws {
        let node = try await Node()
        _ = await node.core.createTopic(name: "t", partitions: 2, replicationFactor: 1, configs: [:])
        _ = try await findCoordinator(node, "g")

        // v7: the first join of a dynamic member is refused with the id to use.
        let first = try await join(node, "g")
        #expect(first.errorCode == KafkaErrorCode.memberIdRequired.rawValue && !first.memberId.isEmpty)
        let leader = try await join(node, "g", memberId: first.memberId)
        #expect(leader.errorCode == 0 && leader.leader == first.memberId && leader.members.count == 1)
        #expect(try await sync(node, "g", leader, assignments: [(leader.memberId, "p0p1")]).assignment == ByteBuffer(string: "p0p1"))

        // A second member makes the group rebalance: its join waits until the leader rejoins.
        let second = try await join(node, "g")
        async let secondJoin = join(node, "g", memberId: second.memberId)
        #expect(try await waitForState(node, "g", "PreparingRebalance"))
        let heartbeat = try await Self.respond(
            HeartbeatHandler(groups: node.groups),
            HeartbeatRequest(groupId: "g", generationId: leader.generationId, memberId: leader.memberId), version: 4)
        #expect(heartbeat.errorCode == KafkaErrorCode.rebalanceInProgress.rawValue)
        let leaderAgain = try await join(node, "g", memberId: leader.memberId)
        let secondJoined = try await secondJoin
        #expect(leaderAgain.generationId == leader.generationId + 1 && secondJoined.generationId == leaderAgain.generationId)
        #expect(leaderAgain.members.count == 2)

        async let secondSync = sync(node, "g", secondJoined)
        let leaderSync = try await sync(node, "g", leaderAgain, assignments: [(leaderAgain.memberId, "p0"), (secondJoined.memberId, "p1")])
        #expect(leaderSync.assignment == ByteBuffer(string: "p0"))
        #expect(try await secondSync.assignment == ByteBuffer(string: "p1"))

        let committed = try await commit(node, "g", generation: leaderAgain.generationId, memberId: leaderAgain.memberId, offsets: [0: 42, 1: 7], metadata: "meta")
        #expect(committed.topics.flatMap(\.partitions).allSatisfy { $0.errorCode == 0 })
        let stale = try await commit(node, "g", generation: leader.generationId, memberId: leader.memberId, offsets: [0: 1])
        #expect(stale.topics[0].partitions[0].errorCode == KafkaErrorCode.illegalGeneration.rawValue)

        try await node.restart()
        let offsets = try await fetchOffsets(node, "g")
        #expect(offsets[0]?.0 == 42 && offsets[1]?.0 == 7 && offsets[0]?.1 == "meta")
        let group = try await describe(node, "g")
        #expect(group.groupState == "Stable" && group.members.count == 2)
        #expect(Set(group.members.map { String(buffer: $0.memberAssignment) }) == ["p0", "p1"])
        #expect(group.members.allSatisfy { $0.clientId == "client-a" && $0.clientHost == "/127.0.0.1" })
    }

    @Test func aMemberThatStopsHeartbeatingIsRemovedWhenItsSessionTimesOut() async throws {
        let node = try await Node([("group.min.session.timeout.ms", "100")])
        _ = try await findCoordinator(node, "g")
        let first = try await join(node, "g", sessionTimeoutMs: 1_000)
        let joined = try await join(node, "g", memberId: first.memberId, sessionTimeoutMs: 1_000)
        #expect(try await sync(node, "g", joined, assignments: [(joined.memberId, "all")]).errorCode == 0)

        #expect(try await waitForState(node, "g", "Empty"))
    }

    @Test func commitsToUnknownPartitionsAreRefusedWhileTheRestAreStored() async throws {
        let node = try await Node()
        _ = await node.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        _ = try await findCoordinator(node, "standalone")
        let response = try await commit(node, "standalone", offsets: [0: 5, 3: 9])
        let errors = Dictionary(uniqueKeysWithValues: response.topics.flatMap(\.partitions).map { ($0.partitionIndex, $0.errorCode) })
        #expect(errors == [0: 0, 3: KafkaErrorCode.unknownTopicOrPartition.rawValue])
        #expect(try await fetchOffsets(node, "standalone")[0]?.0 == 5)

        let listed = try await Self.respond(ListGroupsHandler(groups: node.groups), ListGroupsRequest(), version: 4)
        #expect(listed.groups.map(\.groupId) == ["standalone"])
        let deleted = try await Self.respond(DeleteGroupsHandler(groups: node.groups), DeleteGroupsRequest(groupsNames: ["standalone", "missing"]), version: 2)
        #expect(deleted.results.map(\.errorCode) == [0, KafkaErrorCode.groupIdNotFound.rawValue])
        try await node.restart()
        #expect(try await fetchOffsets(node, "standalone").isEmpty)
    }
}
