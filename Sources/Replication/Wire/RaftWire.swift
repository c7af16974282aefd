import MartletProtocol

/// A request read off the wire as the core takes it: the message and the replica it comes from (KRaft
/// requests name their sender inside: the candidate, the leader, the fetching replica).
public struct RaftInbound: Hashable, Sendable {
    public var from: ReplicaID
    public var message: RaftMessage

    public init(from: ReplicaID, message: RaftMessage) {
        self.from = from
        self.message = message
    }
}

/// The mapping between the Raft core's messages and Kafka's KRaft RPCs, both ways, so a driver can
/// exchange the core's messages with any KRaft peer (Martlet or Kafka):
///
/// - `request(_:to:context:versions:)` turns a request the core sends into the Kafka request, and
///   `inbound(_:version:context:)` turns a received Kafka request into the core's message, refusing
///   (with `RaftWireError.errorCode` to answer with, through `errorResponse`) anything that is not
///   about `__cluster_metadata-0`, names another cluster or voter, or breaks the protocol.
/// - `response(_:context:)` turns the core's answer into the Kafka response, and
///   `message(from:answering:version:)` turns a received response back, given the core request it
///   answers: Kafka pairs responses with requests by correlation id, and the core's responses echo
///   what their request said (the pre-vote flag, the fetch position).
///
/// The per-RPC field mappings live in the `RaftWire+…` extensions (DescribeQuorum, answered from
/// `RaftNode.describeQuorum()`, among them); log entries travel as record batches (`RaftRecords`).
public enum RaftWire {
    /// The Kafka request for a request the core sends to `to`.
    public static func request(
        _ message: RaftMessage, to: ReplicaID, context: RaftWireContext, versions: RaftWireVersions = .kafka40
    ) throws(RaftWireError) -> RaftWireRequest {
        switch message {
        case .vote(let request):
            if request.preVote && versions.vote < 2 { throw .unsupportedVersion(.vote, versions.vote) }
            return .vote(voteRequest(request, to: to, context: context))
        case .beginQuorumEpoch(let request): return .beginQuorumEpoch(beginQuorumEpochRequest(request, to: to, context: context))
        case .endQuorumEpoch(let request): return .endQuorumEpoch(endQuorumEpochRequest(request, context: context))
        case .fetch(let request): return .fetch(fetchRequest(request, context: context))
        case .fetchSnapshot(let request): return .fetchSnapshot(fetchSnapshotRequest(request, context: context))
        case .voteResponse, .beginQuorumEpochResponse, .endQuorumEpochResponse, .fetchResponse, .fetchSnapshotResponse:
            throw .mismatchedMessage("a response is not sent as a request")
        }
    }

    /// The core's message for a Kafka request received at `version`.
    public static func inbound(_ request: RaftWireRequest, version: Int16, context: RaftWireContext) throws(RaftWireError) -> RaftInbound {
        switch request {
        case .vote(let request): try inboundVote(request, version: version, context: context)
        case .beginQuorumEpoch(let request): try inboundBeginQuorumEpoch(request, version: version, context: context)
        case .endQuorumEpoch(let request): try inboundEndQuorumEpoch(request, version: version, context: context)
        case .fetch(let request): try inboundFetch(request, version: version, context: context)
        case .fetchSnapshot(let request): try inboundFetchSnapshot(request, context: context)
        }
    }

    /// The Kafka response for the core's answer to a request. `recordTimestamp` is the CreateTime given
    /// to the batches a Fetch response carries (the core's entries have no timestamps; -1 is Kafka's
    /// "no timestamp").
    public static func response(
        _ message: RaftMessage, context: RaftWireContext, recordTimestamp: Int64 = -1
    ) throws(RaftWireError) -> RaftWireResponse {
        switch message {
        case .voteResponse(let response): .vote(voteResponse(response, context: context))
        case .beginQuorumEpochResponse(let response): .beginQuorumEpoch(beginQuorumEpochResponse(response, context: context))
        case .endQuorumEpochResponse(let response): .endQuorumEpoch(endQuorumEpochResponse(response, context: context))
        case .fetchResponse(let response): .fetch(fetchResponse(response, context: context, recordTimestamp: recordTimestamp))
        case .fetchSnapshotResponse(let response): .fetchSnapshot(fetchSnapshotResponse(response, context: context))
        case .vote, .beginQuorumEpoch, .endQuorumEpoch, .fetch, .fetchSnapshot:
            throw .mismatchedMessage("a request is not sent as a response")
        }
    }

    /// The core's message for a Kafka response received at `version` to `request` (the core's request
    /// it answers).
    public static func message(
        from response: RaftWireResponse, answering request: RaftMessage, version: Int16
    ) throws(RaftWireError) -> RaftMessage {
        switch (response, request) {
        case (.vote(let response), .vote(let request)): .voteResponse(try voteResponse(response, answering: request))
        case (.beginQuorumEpoch(let response), .beginQuorumEpoch):
            .beginQuorumEpochResponse(try epochResponse(response))
        case (.endQuorumEpoch(let response), .endQuorumEpoch):
            .endQuorumEpochResponse(try epochResponse(response))
        case (.fetch(let response), .fetch(let request)):
            .fetchResponse(try fetchResponse(response, answering: request, version: version))
        case (.fetchSnapshot(let response), .fetchSnapshot):
            .fetchSnapshotResponse(try fetchSnapshotResponse(response))
        default:
            throw .mismatchedMessage("a \(response.apiKey.name) response does not answer \(request)")
        }
    }

    /// The response to a request that could not be mapped: only a top-level error, as Kafka answers a
    /// KRaft request it refuses outright (`RaftUtil.errorResponse`).
    public static func errorResponse(_ api: ApiKey, _ error: KafkaErrorCode) throws(RaftWireError) -> RaftWireResponse {
        switch api {
        case .vote: .vote(VoteResponse(errorCode: error.rawValue))
        case .beginQuorumEpoch: .beginQuorumEpoch(BeginQuorumEpochResponse(errorCode: error.rawValue))
        case .endQuorumEpoch: .endQuorumEpoch(EndQuorumEpochResponse(errorCode: error.rawValue))
        case .fetch: .fetch(FetchResponse(errorCode: error.rawValue))
        case .fetchSnapshot: .fetchSnapshot(FetchSnapshotResponse(errorCode: error.rawValue))
        default: throw .mismatchedMessage("\(api.name) is not a KRaft RPC")
        }
    }
}

// MARK: Shared field helpers

extension RaftWire {
    /// Kafka's "no leader" (-1) and the core's nil.
    static func wireId(_ id: ReplicaID?) -> Int32 { id ?? -1 }
    static func coreId(_ id: Int32) -> ReplicaID? { id < 0 ? nil : id }

    /// The one partition of a KRaft message, which must be `__cluster_metadata` partition 0 and nothing
    /// else (Kafka's `RaftUtil.hasValidTopicPartition`).
    static func metadataPartition<Topic, Partition>(
        _ topics: [Topic], name: (Topic) -> String, partitions: (Topic) -> [Partition], index: (Partition) -> Int32
    ) throws(RaftWireError) -> Partition {
        guard topics.count == 1, let topic = topics.first else { throw .notMetadataPartition("\(topics.count) topics") }
        guard name(topic) == RaftWireContext.metadataTopic else { throw .notMetadataPartition("topic \(name(topic))") }
        return try onlyPartitionZero(partitions(topic), index: index)
    }

    static func onlyPartitionZero<Partition>(_ partitions: [Partition], index: (Partition) -> Int32) throws(RaftWireError) -> Partition {
        guard partitions.count == 1, let partition = partitions.first else {
            throw .notMetadataPartition("\(partitions.count) partitions")
        }
        guard index(partition) == RaftWireContext.metadataPartition else {
            throw .notMetadataPartition("partition \(index(partition))")
        }
        return partition
    }

    /// A response with a top-level error has nothing for the core.
    static func checkTopLevel(_ api: ApiKey, _ code: Int16) throws(RaftWireError) {
        guard code == KafkaErrorCode.none.rawValue else { throw .errorResponse(api, KafkaErrorCode(wire: code)) }
    }

    static func nonNegative(_ value: Int64, _ what: String) throws(RaftWireError) {
        guard value >= 0 else { throw .invalidField("\(what) \(value)") }
    }

    /// The first listener of a known leader, for responses' `NodeEndpoints` (one per node).
    static func leaderEndpoint(_ leaderId: ReplicaID?, _ context: RaftWireContext) -> (id: Int32, endpoint: RaftEndpoint)? {
        guard let leaderId, let endpoint = context.endpoints[leaderId]?.first else { return nil }
        return (leaderId, endpoint)
    }
}
