import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

/// Three Raft nodes whose every message crosses the wire as Kafka bytes: the wire form carries
/// everything the core needs to elect, replicate, hand over and ship snapshots.
@Suite("Raft over the Kafka wire")
struct RaftWireClusterTests {
    /// Kafka 4.0's versions, and the oldest each RPC can carry the core's messages at.
    static let versionSets: [RaftWireVersions] = {
        var oldest = RaftWireVersions.kafka40
        oldest.beginQuorumEpoch = 0
        oldest.endQuorumEpoch = 0
        oldest.fetch = 12
        oldest.fetchSnapshot = 0
        oldest.describeQuorum = 0
        return [.kafka40, oldest]
    }()

    static func data(_ entries: [LogEntry]?) -> [[UInt8]] {
        (entries ?? []).compactMap { entry -> [UInt8]? in
            if case .data(let bytes) = entry.payload { bytes } else { nil }
        }
    }

    @Test(
        "three nodes elect a leader (pre-vote, vote, BeginQuorumEpoch), commit entries (Fetch) and hand over (EndQuorumEpoch)",
        arguments: versionSets)
    func electAndCommit(versions: RaftWireVersions) throws {
        var cluster = try WiredCluster(voters: [1, 2, 3], versions: versions)
        let elected = try cluster.electLeader()
        let leader = try #require(elected)
        #expect(cluster[leader].epoch == 1)
        _ = try cluster[leader].propose([[1], [2, 2], Array(repeating: 3, count: 500)])
        try cluster.collect(leader, answering: nil)
        try cluster.run(forMs: 1_000)
        for id: ReplicaID in [1, 2, 3] {
            #expect(Self.data(cluster.applied[id]) == [[1], [2, 2], Array(repeating: 3, count: 500)])
            guard case .leaderChange(let change) = cluster.applied[id]?.first?.payload else {
                Issue.record("node \(id) did not apply the leader change first")
                continue
            }
            #expect(change.leaderId == leader)
            #expect(change.voters == [1, 2, 3])
            #expect(change.grantingVoters.count >= 2)
            #expect(cluster.applied[id]?.contains { $0.payload == .noOp } == true, "idle no-ops replicate as NoOpRecords")
        }

        // Graceful handover: EndQuorumEpoch, then a new election in epoch 2.
        cluster[leader].resign()
        try cluster.collect(leader, answering: nil)
        try cluster.run(forMs: 3_000)
        #expect(cluster.preVotesDelivered > 0)
        let successor = try #require(cluster.leaders.first)
        #expect(cluster.leaders.count == 1)
        #expect(cluster[successor].epoch >= 2)
        _ = try cluster[successor].propose([[4]])
        try cluster.collect(successor, answering: nil)
        try cluster.run(forMs: 1_000)
        for id: ReplicaID in [1, 2, 3] {
            #expect(Self.data(cluster.applied[id]) == [[1], [2, 2], Array(repeating: 3, count: 500), [4]])
            #expect(cluster.applied[id] == cluster.applied[successor])
            #expect(cluster.rejections[id] == [])
        }
        for api: ApiKey in [.vote, .beginQuorumEpoch, .endQuorumEpoch, .fetch] {
            #expect(cluster.framesByApi[api, default: 0] > 0, "\(api.name) crossed the wire")
        }
    }

    @Test("a follower behind the leader's log start downloads a Kafka-format snapshot with FetchSnapshot", arguments: versionSets)
    func snapshotOverTheWire(versions: RaftWireVersions) throws {
        var cluster = try WiredCluster(voters: [1, 2, 3], versions: versions, snapshotChunkBytes: 64)
        let elected = try cluster.electLeader()
        let leader = try #require(elected)
        let lagging = [1, 2, 3].first { $0 != leader }!
        try cluster.run(forMs: 300)
        cluster.drop = { from, to in from == lagging || to == lagging }
        let records: [[UInt8]] = (0..<10).map { [UInt8($0), UInt8($0)] }
        _ = try cluster[leader].propose(records)
        try cluster.collect(leader, answering: nil)
        try cluster.run(forMs: 1_000)
        let applied = try #require(cluster.applied[leader])
        let last = try #require(applied.last)
        let id = OffsetAndEpoch(offset: last.offset + 1, epoch: last.epoch)
        let bytes = RaftRecords.snapshotBytes(id: id, records: Self.data(applied), lastContainedLogTimestamp: cluster.now, timestamp: cluster.now)
        let created = cluster[leader].snapshotCreated(RaftSnapshot(id: id, bytes: bytes))
        #expect(created)
        try cluster.collect(leader, answering: nil)

        cluster.drop = { _, _ in false }
        try cluster.run(forMs: 3_000)
        #expect(cluster.framesByApi[.fetchSnapshot, default: 0] > 2, "the snapshot came in several chunks")
        #expect(cluster[lagging].latestSnapshotId == id)
        #expect(cluster[lagging].logEndOffset >= cluster[leader].highWatermark)
        #expect(cluster.leaders == [leader])
        #expect(try RaftRecords.snapshotContents(bytes).records == records)
    }
}
