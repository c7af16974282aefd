import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

/// Requests malformed at the Raft level are refused with the error Kafka answers them with, never a
/// crash; responses that carry nothing for the core are refused too.
@Suite("Raft wire rejections")
struct RaftWireRejectionTests {
    static let fetch = RaftMessage.fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 3, fetchOffset: 7, lastFetchedEpoch: 2, maxBytes: 4096))
    static let vote = RaftMessage.vote(RaftVoteRequest(epoch: 4, candidateId: 1, lastEpoch: 3, endOffset: 12, preVote: true))

    /// `message` built by `from` for `to`, changed by `edit` before it goes out at the default version.
    func inbound(
        _ message: RaftMessage, from: ReplicaID, to: ReplicaID, context: RaftWireContext? = nil,
        edit: (inout RaftWireRequest) -> Void = { _ in }
    ) throws(RaftWireError) -> RaftInbound {
        var request = try RaftWire.request(message, to: to, context: WireTest.context(from))
        edit(&request)
        let version = RaftWireVersions.kafka40.version(for: request.apiKey)!
        let decoded = try RaftWireRequest(apiKey: request.apiKey, version: version, body: try request.encoded(version: version))
        return try RaftWire.inbound(decoded, version: version, context: context ?? WireTest.context(to))
    }

    @Test("another topic, partition, topic id or several partitions: INVALID_REQUEST")
    func wrongPartition() throws {
        let edits: [(inout RaftWireRequest) -> Void] = [
            { if case .vote(var r) = $0 { r.topics[0].topicName = "orders"; $0 = .vote(r) } },
            { if case .vote(var r) = $0 { r.topics[0].partitions[0].partitionIndex = 1; $0 = .vote(r) } },
            { if case .vote(var r) = $0 { r.topics[0].partitions.append(r.topics[0].partitions[0]); $0 = .vote(r) } },
            { if case .vote(var r) = $0 { r.topics = []; $0 = .vote(r) } },
        ]
        for edit in edits {
            let error = #expect(throws: RaftWireError.self) { try inbound(Self.vote, from: 1, to: 2, edit: edit) }
            #expect(error?.errorCode == .invalidRequest)
        }
        let wrongId = #expect(throws: RaftWireError.self) {
            try inbound(Self.fetch, from: 2, to: 1) {
                if case .fetch(var r) = $0 { r.topics[0].topicId = KafkaUUID(mostSignificantBits: 7, leastSignificantBits: 7); $0 = .fetch(r) }
            }
        }
        #expect(wrongId?.errorCode == .invalidRequest)
        let snapshot = RaftMessage.fetchSnapshot(RaftFetchSnapshotRequest(
            replicaId: 3, currentLeaderEpoch: 4, snapshotId: OffsetAndEpoch(offset: 10, epoch: 3), position: 0, maxBytes: 16))
        let wrongName = #expect(throws: RaftWireError.self) {
            try inbound(snapshot, from: 3, to: 1) {
                if case .fetchSnapshot(var r) = $0 { r.topics[0].name = "__consumer_offsets"; $0 = .fetchSnapshot(r) }
            }
        }
        #expect(wrongName?.errorCode == .invalidRequest)
    }

    @Test("another cluster: INCONSISTENT_CLUSTER_ID; another voter: INVALID_VOTER_KEY")
    func wrongClusterOrVoter() throws {
        var otherCluster = WireTest.context(2)
        otherCluster.clusterId = "someone-else"
        let cluster = #expect(throws: RaftWireError.self) { try inbound(Self.vote, from: 1, to: 2, context: otherCluster) }
        #expect(cluster?.errorCode == .inconsistentClusterId)
        let voter = #expect(throws: RaftWireError.self) { try inbound(Self.vote, from: 1, to: 2, context: WireTest.context(3)) }
        #expect(voter == .wrongVoter(received: 2, local: 3))
        #expect(voter?.errorCode == .invalidVoterKey)
        // A request without a cluster id is accepted, as Kafka accepts it.
        let anonymous = try inbound(Self.vote, from: 1, to: 2) { if case .vote(var r) = $0 { r.clusterId = nil; $0 = .vote(r) } }
        #expect(anonymous.message == Self.vote)
    }

    @Test("missing or negative ids, epochs and offsets: INVALID_REQUEST")
    func invalidFields() throws {
        let edits: [(RaftMessage, ReplicaID, ReplicaID, (inout RaftWireRequest) -> Void)] = [
            (Self.vote, 1, 2, { if case .vote(var r) = $0 { r.topics[0].partitions[0].lastOffset = -1; $0 = .vote(r) } }),
            (Self.vote, 1, 2, { if case .vote(var r) = $0 { r.topics[0].partitions[0].lastOffsetEpoch = -1; $0 = .vote(r) } }),
            (Self.vote, 1, 2, { if case .vote(var r) = $0 { r.topics[0].partitions[0].candidateId = -1; $0 = .vote(r) } }),
            (Self.fetch, 2, 1, { if case .fetch(var r) = $0 { r.replicaState.replicaId = -1; $0 = .fetch(r) } }),
            (Self.fetch, 2, 1, { if case .fetch(var r) = $0 { r.maxWaitMs = -1; $0 = .fetch(r) } }),
            (.beginQuorumEpoch(RaftBeginQuorumEpochRequest(epoch: 2, leaderId: 3)), 3, 1, {
                if case .beginQuorumEpoch(var r) = $0 { r.topics[0].partitions[0].leaderId = -1; $0 = .beginQuorumEpoch(r) }
            }),
        ]
        for (message, from, to, edit) in edits {
            let error = #expect(throws: RaftWireError.self) { try inbound(message, from: from, to: to, edit: edit) }
            #expect(error?.errorCode == .invalidRequest)
        }
    }

    @Test("truncated or overlong bodies and unsupported versions are refused")
    func badBytes() throws {
        let request = try RaftWire.request(Self.fetch, to: 1, context: WireTest.context(2))
        var body = try request.encoded(version: 17)
        let truncated = body.getSlice(at: body.readerIndex, length: body.readableBytes - 3)!
        let cut = #expect(throws: RaftWireError.self) { try RaftWireRequest(apiKey: .fetch, version: 17, body: truncated) }
        #expect(cut?.errorCode == .invalidRequest)
        body.writeInteger(UInt8(0))
        #expect(throws: RaftWireError.self) { try RaftWireRequest(apiKey: .fetch, version: 17, body: body) }
        #expect(throws: RaftWireError.unsupportedVersion(.fetch, 11)) { try request.encoded(version: 11) }
        #expect(throws: RaftWireError.unsupportedVersion(.vote, 3)) { try RaftWireRequest(apiKey: .vote, version: 3, body: ByteBuffer()) }
        let notRaft = #expect(throws: RaftWireError.self) { try RaftWireRequest(apiKey: .produce, version: 9, body: ByteBuffer()) }
        #expect(notRaft?.errorCode == .unsupportedVersion)
    }

    @Test("a refused request is answered with a top-level error, which the requester reads as no answer")
    func errorResponses() throws {
        for (api, request) in [(ApiKey.vote, Self.vote), (.fetch, Self.fetch)] {
            let response = try RaftWire.errorResponse(api, .inconsistentClusterId)
            let version = RaftWireVersions.kafka40.version(for: api)!
            let decoded = try RaftWireResponse(apiKey: api, version: version, body: try response.encoded(version: version))
            #expect(throws: RaftWireError.errorResponse(api, .inconsistentClusterId)) {
                try RaftWire.message(from: decoded, answering: request, version: version)
            }
        }
        #expect(throws: RaftWireError.self) { try RaftWire.errorResponse(.produce, .invalidRequest) }
    }

    @Test("messages on the wrong side of the mapping are refused")
    func mismatched() throws {
        let fetchResponse = RaftMessage.fetchResponse(RaftFetchResponse(epoch: 1, leaderId: 1, fetchOffset: 0, lastFetchedEpoch: 0))
        #expect(throws: RaftWireError.self) { try RaftWire.request(fetchResponse, to: 1, context: WireTest.context(2)) }
        #expect(throws: RaftWireError.self) { try RaftWire.response(Self.fetch, context: WireTest.context(1)) }
        let response = try RaftWire.response(fetchResponse, context: WireTest.context(1))
        #expect(throws: RaftWireError.self) { try RaftWire.message(from: response, answering: Self.vote, version: 17) }
    }

    @Test("a Fetch response whose records are corrupt is refused")
    func corruptFetchRecords() throws {
        let entries = [LogEntry(offset: 0, epoch: 1, payload: .data([1, 2, 3, 4]))]
        let response = RaftMessage.fetchResponse(RaftFetchResponse(
            epoch: 1, leaderId: 1, highWatermark: 0, logStartOffset: 0, outcome: .records(entries), fetchOffset: 0, lastFetchedEpoch: 0))
        guard case .fetch(var fetch) = try RaftWire.response(response, context: WireTest.context(1)) else {
            Issue.record("not a Fetch response")
            return
        }
        var records = fetch.responses[0].partitions[0].records!
        let last = records.writerIndex - 1
        records.setInteger(records.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)
        fetch.responses[0].partitions[0].records = records
        let request = RaftMessage.fetch(RaftFetchRequest(replicaId: 2, currentLeaderEpoch: 1, fetchOffset: 0, lastFetchedEpoch: 0, maxBytes: 100))
        let error = #expect(throws: RaftWireError.self) { try RaftWire.message(from: .fetch(fetch), answering: request, version: 17) }
        #expect(error?.errorCode == .corruptMessage)
    }
}
