import MartletProtocol

/// A listener a controller accepts KRaft requests on (`controller.listener.names` with its host and
/// port, as `controller.quorum.voters` names them).
public struct RaftEndpoint: Hashable, Sendable {
    public var listener: String
    public var host: String
    public var port: UInt16

    public init(listener: String, host: String, port: UInt16) {
        self.listener = listener
        self.host = host
        self.port = port
    }
}

/// The versions of the KRaft RPCs this mapping speaks by default: the latest each one has in Kafka 4.0,
/// so that a Kafka 4.0 controller can be a peer. A driver that negotiated lower versions through
/// ApiVersions passes those instead; the mapping fills every field any version needs and reads by the
/// version it is given.
public struct RaftWireVersions: Hashable, Sendable {
    /// v2 carries the pre-vote flag (KIP-996); v0 and v1 can only send real votes.
    public var vote: Int16 = 2
    public var beginQuorumEpoch: Int16 = 1
    public var endQuorumEpoch: Int16 = 1
    /// v17 is Kafka 4.0's; v18 (KIP-1166, after 4.0) only adds the follower's high watermark, which the
    /// core does not send. Below v12 there is no `LastFetchedEpoch`, without which KRaft cannot fetch.
    public var fetch: Int16 = 17
    public var fetchSnapshot: Int16 = 1
    public var describeQuorum: Int16 = 2

    public init() {}

    public static let kafka40 = RaftWireVersions()

    /// The version for one of the KRaft APIs.
    public func version(for api: ApiKey) -> Int16? {
        switch api {
        case .vote: vote
        case .beginQuorumEpoch: beginQuorumEpoch
        case .endQuorumEpoch: endQuorumEpoch
        case .fetch: fetch
        case .fetchSnapshot: fetchSnapshot
        case .describeQuorum: describeQuorum
        default: nil
        }
    }
}

/// What the wire needs beyond the core's messages: who this node is, which cluster it belongs to, and
/// where the voters listen (KRaft requests and responses carry the leader's endpoints so that a peer
/// can reach a leader it has not met; the core only deals in ids).
public struct RaftWireContext: Sendable {
    /// The KRaft log: topic `__cluster_metadata`, partition 0, with the fixed topic id Kafka gives it
    /// (`Uuid.METADATA_TOPIC_ID`, 0:1) since Fetch addresses topics by id from v13.
    public static let metadataTopic = "__cluster_metadata"
    public static let metadataTopicId = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1)
    public static let metadataPartition: Int32 = 0

    /// This node's `node.id`: requests naming another voter are refused.
    public var localId: ReplicaID
    /// The cluster id sent in requests and checked in inbound ones (a request without one is accepted,
    /// as Kafka does). nil: neither sent nor checked.
    public var clusterId: String?
    /// Each voter's listeners, from `controller.quorum.voters`.
    public var endpoints: [ReplicaID: [RaftEndpoint]]

    public init(localId: ReplicaID, clusterId: String?, endpoints: [ReplicaID: [RaftEndpoint]] = [:]) {
        self.localId = localId
        self.clusterId = clusterId
        self.endpoints = endpoints
    }

    /// Refuses a request from another cluster.
    func checkClusterId(_ received: String?) throws(RaftWireError) {
        guard let received, let clusterId, received != clusterId else { return }
        throw .inconsistentClusterId(received: received, expected: clusterId)
    }

    /// Refuses a request addressed (by `VoterId`, -1 when unset) to another voter.
    func checkVoterId(_ voterId: Int32) throws(RaftWireError) {
        guard voterId >= 0, voterId != localId else { return }
        throw .wrongVoter(received: voterId, local: localId)
    }
}
