import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Raft elections")
struct RaftElectionTests {
    @Test("a quorum elects one leader, which announces itself and opens its epoch with a leader-change record")
    func election() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        let node = cluster[leader]
        #expect(node.epoch == 1)
        #expect(node.quorumState == QuorumState(epoch: 1, votedFor: leader, leaderId: leader))
        guard case .leaderChange(let change) = node.entry(at: 0)?.payload else {
            Issue.record("the first entry of the epoch is not a leader change")
            return
        }
        #expect(change.leaderId == leader)
        #expect(change.voters == [1, 2, 3])
        cluster.run(forMs: 1_000)
        for id: ReplicaID in [1, 2, 3] {
            #expect(cluster[id].currentLeader == leader)
            #expect(cluster[id].highWatermark >= 1)
            #expect(cluster.applied[id]?.first?.payload == .leaderChange(change))
        }
    }

    @Test("proposals commit on a majority and every node applies them in order")
    func replication() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        let offsets = try cluster[leader].propose([[1], [2], [3]])
        cluster.collect(leader)
        cluster.run(forMs: 1_000)
        for id: ReplicaID in [1, 2, 3] {
            let data = cluster.applied[id, default: []].compactMap { entry -> [UInt8]? in
                if case .data(let bytes) = entry.payload { bytes } else { nil }
            }
            #expect(data == [[1], [2], [3]])
            #expect(cluster[id].highWatermark >= offsets.upperBound)
        }
        #expect(throws: RaftNode.ProposalError.self) { try cluster[leader == 1 ? 2 : 1].propose([[9]]) }
    }

    @Test("a pre-vote from a node cut off from a healthy quorum does not disturb the leader")
    func preVoteDoesNotDisrupt() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        cluster.run(forMs: 500)
        let isolated = [1, 2, 3].first { $0 != leader }!
        cluster.drop = { from, to, _ in from == isolated || to == isolated }
        cluster.run(forMs: 3_000)
        #expect(cluster[isolated].role == .prospective)
        #expect(cluster[isolated].epoch == 1, "pre-vote does not bump the epoch")
        // Heal: its pre-votes reach followers that fetch from a live leader, and are refused.
        cluster.drop = { _, _, _ in false }
        cluster.run(forMs: 2_000)
        #expect(cluster[leader].role == .leader)
        #expect(cluster[leader].epoch == 1)
        #expect(cluster[isolated].currentLeader == leader)
    }

    @Test("a follower that stops hearing from the leader elects a new one in a higher epoch")
    func failover() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let old = try #require(elected)
        cluster.run(forMs: 500)
        cluster.drop = { from, to, _ in from == old || to == old }
        cluster.run(forMs: 6_000)
        let others = [1, 2, 3].filter { $0 != old }
        let new = try #require(others.first { cluster[$0].role == .leader })
        #expect(cluster[new].epoch > 1)
        #expect(cluster[old].role != .leader, "the cut-off leader resigns when it loses its quorum")
        cluster.drop = { _, _, _ in false }
        cluster.run(forMs: 2_000)
        #expect(cluster[old].currentLeader == new)
    }

    @Test("the followers of a dead leader, timing out together, elect one of them without splitting the vote")
    func failoverWithoutSplitVote() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let old = try #require(elected)
        cluster.run(forMs: 500)
        cluster.drop = { from, to, _ in from == old || to == old }
        let cutOff = cluster.now
        let others = [1, 2, 3].filter { $0 != old }
        while cluster.now - cutOff < 10_000, !others.contains(where: { cluster[$0].role == .leader }) {
            cluster.run(forMs: 10)
        }
        let new = try #require(others.first { cluster[$0].role == .leader })
        // One fetch timeout to notice, then pre-vote and vote at once: no election timeout lost to a split.
        #expect(cluster.now - cutOff <= cluster[new].config.fetchTimeoutMs + 200)
        #expect(cluster[new].epoch == cluster[old].epoch + 1)
    }

    @Test("a resigning leader hands over with EndQuorumEpoch")
    func resignation() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let old = try #require(elected)
        cluster.run(forMs: 500)
        cluster[old].resign()
        cluster.collect(old)
        #expect(cluster.inFlight.contains { if case .endQuorumEpoch = $0.envelope.message { true } else { false } })
        cluster.run(forMs: 3_000)
        #expect(cluster.leaders.count == 1)
        #expect(cluster[cluster.leaders[0]].epoch == 2)
    }

    @Test("bad input is refused with Kafka's error codes and the quorum carries on")
    func badInput() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3])
        let elected = cluster.electLeader()
        let leader = try #require(elected)
        cluster.run(forMs: 500)
        let follower = [1, 2, 3].first { $0 != leader }!
        // A Vote from outside the voter set.
        cluster.step(follower, .vote(RaftVoteRequest(epoch: 9, candidateId: 7, lastEpoch: 9, endOffset: 100, preVote: false)), from: 7)
        #expect(cluster.rejections[follower]?.last?.error == .inconsistentVoterSet)
        #expect(cluster[follower].epoch == 1)
        // A Vote in a stale epoch.
        cluster.step(follower, .vote(RaftVoteRequest(epoch: 0, candidateId: leader, lastEpoch: 0, endOffset: 0, preVote: false)), from: leader)
        #expect(cluster.rejections[follower]?.last?.error == .fencedLeaderEpoch)
        // A Fetch from an unknown replica.
        cluster.step(leader, .fetch(RaftFetchRequest(replicaId: 42, currentLeaderEpoch: 1, fetchOffset: 0, lastFetchedEpoch: 0, maxBytes: 100)), from: 42)
        #expect(cluster.rejections[leader]?.last?.error == .invalidRequest)
        let answer = cluster.inFlight.last { $0.envelope.to == 42 }?.envelope.message
        guard case .fetchResponse(let response) = answer else {
            Issue.record("no fetch response to the unknown replica")
            return
        }
        #expect(response.error == .invalidRequest)
        // A Fetch in a stale epoch.
        cluster.step(leader, .fetch(RaftFetchRequest(replicaId: follower, currentLeaderEpoch: 0, fetchOffset: 0, lastFetchedEpoch: 0, maxBytes: 100)), from: follower)
        #expect(cluster.rejections[leader]?.last?.error == .fencedLeaderEpoch)
        cluster.inFlight.removeAll { $0.envelope.to == 42 }
        cluster.run(forMs: 1_000)
        #expect(cluster.leaders == [leader])
        #expect(cluster[leader].epoch == 1)
    }
}
