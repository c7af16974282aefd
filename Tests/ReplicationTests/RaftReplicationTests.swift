import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Raft replication")
struct RaftReplicationTests {
    static func log(_ epochs: [Int32]) -> [LogEntry] {
        epochs.enumerated().map { LogEntry(offset: Int64($0.offset), epoch: $0.element, payload: .data([UInt8($0.offset)])) }
    }

    static func persisted(epoch: Int32, _ epochs: [Int32]) -> RaftPersistentState {
        RaftPersistentState(quorumState: QuorumState(epoch: epoch), entries: log(epochs))
    }

    static func isFetch(_ from: ReplicaID, _ to: ReplicaID, _ message: RaftMessage) -> Bool {
        if case .fetch = message { true } else { false }
    }

    @Test("a follower whose log diverges truncates to the leader's epoch boundary and catches up")
    func divergence() throws {
        var cluster = RaftTestHarness(
            voters: [1, 2, 3],
            persisted: [1: Self.persisted(epoch: 3, [1, 1, 2, 2, 2]), 2: Self.persisted(epoch: 3, [1, 1, 3, 3]), 3: Self.persisted(epoch: 3, [1, 1, 3, 3])])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        #expect(leader != 1, "node 1's last epoch is behind: it cannot win")
        cluster.run(forMs: 1_000)
        #expect(cluster[1].logEndOffset == cluster[leader].logEndOffset)
        for offset in 0..<cluster[leader].logEndOffset {
            #expect(cluster[1].entry(at: offset) == cluster[leader].entry(at: offset))
        }
        #expect(cluster[1].entry(at: 2)?.epoch == 3, "the epoch-2 entries are gone")
    }

    @Test("the high watermark passes older entries only once an entry of the leader's epoch is on a majority")
    func highWatermarkInOwnEpoch() throws {
        var cluster = RaftTestHarness(
            voters: [1, 2, 3],
            persisted: [1: Self.persisted(epoch: 1, [1, 1, 1]), 2: Self.persisted(epoch: 1, [1]), 3: Self.persisted(epoch: 1, [1])])
        cluster.drop = Self.isFetch
        cluster.now = 2_500
        cluster[1].tick(nowMs: cluster.now)
        cluster.collect(1)
        cluster.deliverAll()
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].epoch == 2)
        // The leader-change record of epoch 2 sits at offset 3; node 2 holds the epoch-1 entries below it.
        cluster.step(1, .fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 2, fetchOffset: 3, lastFetchedEpoch: 1, maxBytes: 100)), from: 2)
        #expect(cluster[1].highWatermark == 0, "epoch-1 entries on a majority are not committed by an epoch-2 leader alone")
        cluster.step(1, .fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 2, fetchOffset: 4, lastFetchedEpoch: 2, maxBytes: 100)), from: 2)
        #expect(cluster[1].highWatermark == 4)
        #expect(cluster.applied[1]?.map(\.offset) == [0, 1, 2, 3])
    }

    @Test("the leader's own entries count only once flushed")
    func leaderCountsFlushedOnly() throws {
        var config = RaftConfig(nodeId: 1, voters: [1])
        config.idleIntervalMs = 1_000_000
        var node = RaftNode(config: config, persisted: RaftPersistentState(), nowMs: 0, random: SplitMix64(seed: 1))
        node.tick(nowMs: 5_000)
        #expect(node.role == .leader)
        let ready = node.takeReady()
        #expect(node.highWatermark == 0)
        node.logFlushed(ready.flushToken)
        #expect(node.highWatermark == 1)
        _ = try node.propose([[7]])
        let stale = LogFlushToken(endOffset: 2, truncations: ready.flushToken.truncations + 1)
        node.logFlushed(stale)
        #expect(node.highWatermark == 1, "a flush that raced a truncation proves nothing")
        node.logFlushed(node.takeReady().flushToken)
        #expect(node.highWatermark == 2)
    }

    @Test("a follower behind the leader's log start installs its snapshot, despite a truncated and a misplaced chunk")
    func snapshotInstall() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        let lagging = [1, 2, 3].first { $0 != leader }!
        cluster.run(forMs: 300)
        cluster.drop = { from, to, _ in from == lagging || to == lagging }
        _ = try cluster[leader].propose((0..<10).map { [UInt8($0)] })
        cluster.collect(leader)
        cluster.run(forMs: 1_000)
        let applied = cluster.applied[leader]!.count
        let last = try #require(cluster[leader].entry(at: Int64(applied) - 1))
        let snapshot = RaftSnapshot(id: OffsetAndEpoch(offset: Int64(applied), epoch: last.epoch), bytes: (0..<50).map { UInt8($0) })
        let createdleader = cluster[leader].snapshotCreated(snapshot)
        #expect(createdleader)
        cluster.collect(leader)
        #expect(cluster[leader].logStartOffset == Int64(applied))

        // Heal. The first chunk arrives cut short; the next answer is replaced by a late copy of the first
        // chunk, whole, at a position the follower has left behind.
        final class Tamper { var chunks: [RaftFetchSnapshotResponse] = [] }
        let tamper = Tamper()
        cluster.drop = { _, _, _ in false }
        cluster.rewrite = { _, to, message in
            guard to == lagging, case .fetchSnapshotResponse(var response) = message else { return message }
            tamper.chunks.append(response)
            switch tamper.chunks.count {
            case 1:
                response.bytes = Array(response.bytes.prefix(5))
                return .fetchSnapshotResponse(response)
            case 2:
                return .fetchSnapshotResponse(tamper.chunks[0])
            default:
                return message
            }
        }
        cluster.run(forMs: 3_000)
        #expect(cluster.rejections[lagging]?.contains { $0.error == .positionOutOfRange } == true)
        #expect(cluster[lagging].latestSnapshotId == snapshot.id)
        #expect(cluster[lagging].logStartOffset == snapshot.id.offset)
        let committed = cluster[leader].highWatermark
        #expect(cluster[lagging].logEndOffset >= committed)
        for offset in snapshot.id.offset..<committed {
            #expect(cluster[lagging].entry(at: offset) == cluster[leader].entry(at: offset))
        }
        #expect(cluster.leaders == [leader])
    }

    @Test("FetchSnapshot of an unknown snapshot or past its end is refused")
    func fetchSnapshotErrors() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        cluster.run(forMs: 300)
        let follower = [1, 2, 3].first { $0 != leader }!
        let epoch = cluster[leader].epoch
        cluster.step(leader, .fetchSnapshot(RaftFetchSnapshotRequest(replicaId: follower, currentLeaderEpoch: epoch, snapshotId: OffsetAndEpoch(offset: 1, epoch: epoch), position: 0, maxBytes: 10)), from: follower)
        #expect(cluster.rejections[leader]?.last?.error == .snapshotNotFound)
        let applied = Int64(cluster.applied[leader]!.count)
        let snapshot = RaftSnapshot(id: OffsetAndEpoch(offset: applied, epoch: cluster[leader].entry(at: applied - 1)!.epoch), bytes: [1, 2, 3])
        let createdleader = cluster[leader].snapshotCreated(snapshot)
        #expect(createdleader)
        cluster.step(leader, .fetchSnapshot(RaftFetchSnapshotRequest(replicaId: follower, currentLeaderEpoch: epoch, snapshotId: snapshot.id, position: 4, maxBytes: 10)), from: follower)
        #expect(cluster.rejections[leader]?.last?.error == .positionOutOfRange)
    }
}
