import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

/// Every core message survives the trip through its Kafka RPC: core → generated type → bytes → generated
/// type → core, at the versions a Kafka 4.0 controller speaks and at the older ones the mapping reads.
@Suite("Raft wire round trips")
struct RaftWireRoundTripTests {
    static let entries: [LogEntry] = [
        LogEntry(offset: 7, epoch: 3, payload: .leaderChange(LeaderChange(leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3]))),
        LogEntry(offset: 8, epoch: 3, payload: .data([1, 2, 3])),
        LogEntry(offset: 9, epoch: 3, payload: .data([])),
        LogEntry(offset: 10, epoch: 3, payload: .noOp),
        LogEntry(offset: 11, epoch: 3, payload: .data(Array(repeating: 0xAB, count: 300))),
    ]

    @Test("Vote and pre-vote requests and their responses", arguments: [false, true])
    func vote(preVote: Bool) throws {
        let request = RaftMessage.vote(RaftVoteRequest(epoch: 4, candidateId: 1, lastEpoch: 3, endOffset: 12, preVote: preVote))
        let inbound = try WireTest.request(request, from: 1, to: 2)
        #expect(inbound == RaftInbound(from: 1, message: request))
        for response in [
            RaftVoteResponse(epoch: 4, leaderId: nil, granted: true, preVote: preVote),
            RaftVoteResponse(error: .fencedLeaderEpoch, epoch: 5, leaderId: 3, granted: false, preVote: preVote),
        ] {
            #expect(try WireTest.response(.voteResponse(response), answering: request, from: 2) == .voteResponse(response))
        }
    }

    @Test("a real vote also travels at Vote v0 and v1; a pre-vote is refused below v2")
    func voteOldVersions() throws {
        let vote = RaftMessage.vote(RaftVoteRequest(epoch: 4, candidateId: 1, lastEpoch: 3, endOffset: 12, preVote: false))
        let preVote = RaftMessage.vote(RaftVoteRequest(epoch: 4, candidateId: 1, lastEpoch: 3, endOffset: 12, preVote: true))
        for version: Int16 in [0, 1] {
            var versions = RaftWireVersions.kafka40
            versions.vote = version
            #expect(try WireTest.request(vote, from: 1, to: 2, versions: versions).message == vote)
            #expect(throws: RaftWireError.unsupportedVersion(.vote, version)) { try WireTest.request(preVote, from: 1, to: 2, versions: versions) }
            let built = try RaftWire.request(preVote, to: 2, context: WireTest.context(1))
            #expect(throws: RaftWireError.unsupportedVersion(.vote, version)) { try built.encoded(version: version) }
        }
    }

    @Test("BeginQuorumEpoch and EndQuorumEpoch, at v1 and v0")
    func quorumEpoch() throws {
        for version: Int16 in [1, 0] {
            var versions = RaftWireVersions.kafka40
            versions.beginQuorumEpoch = version
            versions.endQuorumEpoch = version
            let begin = RaftMessage.beginQuorumEpoch(RaftBeginQuorumEpochRequest(epoch: 6, leaderId: 3))
            #expect(try WireTest.request(begin, from: 3, to: 1, versions: versions) == RaftInbound(from: 3, message: begin))
            let end = RaftMessage.endQuorumEpoch(RaftEndQuorumEpochRequest(epoch: 6, leaderId: 3, preferredSuccessors: [2, 1]))
            #expect(try WireTest.request(end, from: 3, to: 1, versions: versions) == RaftInbound(from: 3, message: end))
            for response in [RaftEpochResponse(epoch: 6, leaderId: 3), RaftEpochResponse(error: .inconsistentVoterSet, epoch: 7, leaderId: nil)] {
                #expect(try WireTest.response(.beginQuorumEpochResponse(response), answering: begin, from: 1, versions: versions) == .beginQuorumEpochResponse(response))
                #expect(try WireTest.response(.endQuorumEpochResponse(response), answering: end, from: 1, versions: versions) == .endQuorumEpochResponse(response))
            }
        }
    }

    @Test("the leader's listeners travel with BeginQuorumEpoch and in responses naming it")
    func endpoints() throws {
        let request = try RaftWire.request(
            .beginQuorumEpoch(RaftBeginQuorumEpochRequest(epoch: 6, leaderId: 3)), to: 1, context: WireTest.context(3))
        guard case .beginQuorumEpoch(let begin) = request else { Issue.record("not a BeginQuorumEpoch"); return }
        #expect(begin.voterId == 1)
        #expect(begin.clusterId == WireTest.clusterId)
        #expect(begin.leaderEndpoints == [.init(name: "CONTROLLER", host: "controller-3", port: 9003)])
        let response = try RaftWire.response(.voteResponse(RaftVoteResponse(epoch: 6, leaderId: 3, granted: false, preVote: false)), context: WireTest.context(1))
        guard case .vote(let vote) = response else { Issue.record("not a Vote response"); return }
        #expect(vote.nodeEndpoints == [.init(nodeId: 3, host: "controller-3", port: 9003)])
    }

    @Test("Fetch requests at v17 (Kafka 4.0), v18, v15, v13 (topic id) and v12 (topic name)", arguments: [Int16(17), 18, 15, 13, 12])
    func fetchRequest(version: Int16) throws {
        var versions = RaftWireVersions.kafka40
        versions.fetch = version
        let fetch = RaftMessage.fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 3, fetchOffset: 7, lastFetchedEpoch: 2, maxBytes: 4096))
        #expect(try WireTest.request(fetch, from: 2, to: 1, versions: versions) == RaftInbound(from: 2, message: fetch))
    }

    @Test("Fetch responses: records, a diverging epoch, a snapshot id, an error", arguments: [Int16(17), 12])
    func fetchResponse(version: Int16) throws {
        var versions = RaftWireVersions.kafka40
        versions.fetch = version
        let request = RaftMessage.fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 3, fetchOffset: 7, lastFetchedEpoch: 2, maxBytes: 4096))
        let responses: [RaftFetchResponse] = [
            RaftFetchResponse(epoch: 3, leaderId: 1, highWatermark: 9, logStartOffset: 0, outcome: .records(Self.entries), fetchOffset: 7, lastFetchedEpoch: 2),
            RaftFetchResponse(epoch: 3, leaderId: 1, highWatermark: 9, logStartOffset: 0, outcome: .records([]), fetchOffset: 7, lastFetchedEpoch: 2),
            RaftFetchResponse(epoch: 3, leaderId: 1, highWatermark: 9, logStartOffset: 0, outcome: .divergingEpoch(OffsetAndEpoch(offset: 5, epoch: 1)), fetchOffset: 7, lastFetchedEpoch: 2),
            RaftFetchResponse(epoch: 3, leaderId: 1, highWatermark: 9, logStartOffset: 6, outcome: .snapshot(OffsetAndEpoch(offset: 6, epoch: 0)), fetchOffset: 7, lastFetchedEpoch: 2),
            RaftFetchResponse(error: .fencedLeaderEpoch, epoch: 4, leaderId: nil, highWatermark: -1, logStartOffset: 0, fetchOffset: 7, lastFetchedEpoch: 2),
        ]
        for response in responses {
            #expect(try WireTest.response(.fetchResponse(response), answering: request, from: 1, versions: versions) == .fetchResponse(response))
        }
    }

    @Test("FetchSnapshot requests and chunk responses, at v1 and v0", arguments: [Int16(1), 0])
    func fetchSnapshot(version: Int16) throws {
        var versions = RaftWireVersions.kafka40
        versions.fetchSnapshot = version
        let request = RaftMessage.fetchSnapshot(RaftFetchSnapshotRequest(
            replicaId: 3, currentLeaderEpoch: 4, snapshotId: OffsetAndEpoch(offset: 100, epoch: 3), position: 32, maxBytes: 16))
        #expect(try WireTest.request(request, from: 3, to: 1, versions: versions) == RaftInbound(from: 3, message: request))
        for response in [
            RaftFetchSnapshotResponse(epoch: 4, leaderId: 1, snapshotId: OffsetAndEpoch(offset: 100, epoch: 3), size: 50, position: 32, bytes: Array(32..<48)),
            RaftFetchSnapshotResponse(error: .snapshotNotFound, epoch: 4, leaderId: 1, snapshotId: OffsetAndEpoch(offset: 100, epoch: 3)),
        ] {
            #expect(try WireTest.response(.fetchSnapshotResponse(response), answering: request, from: 1, versions: versions) == .fetchSnapshotResponse(response))
        }
    }

    @Test("DescribeQuorum answers from the leader's quorum description, voters and observers with their lag")
    func describeQuorum() throws {
        let description = QuorumDescription(
            leaderId: 1, epoch: 5, highWatermark: 40, leaderEndOffset: 42,
            voters: [
                .init(replicaId: 1, logEndOffset: 42, lastFetchMs: 1_700_000_000_500, lastCaughtUpMs: 1_700_000_000_500),
                .init(replicaId: 2, logEndOffset: 40, lastFetchMs: 1_700_000_000_400, lastCaughtUpMs: 1_700_000_000_100),
                .init(replicaId: 3, logEndOffset: -1, lastFetchMs: 1_700_000_000_000, lastCaughtUpMs: -1),
            ],
            observers: [.init(replicaId: 10, logEndOffset: 30, lastFetchMs: 1_700_000_000_300, lastCaughtUpMs: -1)])
        let request = DescribeQuorumRequest(topics: [.init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])])
        let version = RaftWireVersions.kafka40.describeQuorum
        var requestBytes = try request.encoded(version: version)
        let decodedRequest = try DescribeQuorumRequest(from: &requestBytes, version: version)
        let response = RaftWire.describeQuorumResponse(to: decodedRequest, description: description, context: WireTest.context(1))
        #expect(response.nodes.map(\.nodeId) == [1, 2, 3])
        var bytes = try response.encoded(version: version)
        let decoded = try DescribeQuorumResponse(from: &bytes, version: version)
        let readBack = try RaftWire.quorumDescription(from: decoded)
        #expect(readBack == description)
        #expect(readBack.voters.map { readBack.lag(of: $0) } == [0, 2, 42])
        #expect(readBack.observers.map { readBack.lag(of: $0) } == [12])
    }

    @Test("DescribeQuorum off the leader or of another partition answers with Kafka's errors")
    func describeQuorumErrors() throws {
        let good = DescribeQuorumRequest(topics: [.init(topicName: "__cluster_metadata", partitions: [.init(partitionIndex: 0)])])
        let notLeader = RaftWire.describeQuorumResponse(to: good, description: nil, context: WireTest.context(2))
        #expect(throws: RaftWireError.errorResponse(.describeQuorum, .notLeaderOrFollower)) { try RaftWire.quorumDescription(from: notLeader) }
        let other = DescribeQuorumRequest(topics: [.init(topicName: "orders", partitions: [.init(partitionIndex: 0)])])
        let unknown = RaftWire.describeQuorumResponse(to: other, description: nil, context: WireTest.context(1))
        #expect(unknown.topics.first?.partitions.first?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
    }
}
