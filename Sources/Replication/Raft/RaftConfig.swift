/// Who takes part in the quorum and the timing knobs, with Kafka's names and defaults
/// (`QuorumConfig.java`). All durations are milliseconds of the driver's clock.
public struct RaftConfig: Sendable {
    /// This node's `node.id`.
    public var nodeId: ReplicaID
    /// The fixed voter set (`controller.quorum.voters`).
    public var voters: Set<ReplicaID>
    /// Replicas allowed to fetch without voting (brokers). A Fetch from an id in neither set is refused,
    /// so that a misconfigured node cannot make the leader track it or read the metadata log.
    public var observers: Set<ReplicaID>
    /// `controller.quorum.election.timeout.ms`: the base of the randomized election timeout.
    public var electionTimeoutMs: Int64 = 1000
    /// `controller.quorum.election.backoff.max.ms`: spreads the elections a resigning leader's successors start.
    public var electionBackoffMaxMs: Int64 = 1000
    /// `controller.quorum.fetch.timeout.ms`: a follower without a successful fetch for this long starts an
    /// election; a leader without fetches from a majority for 1.5 times this long resigns.
    public var fetchTimeoutMs: Int64 = 2000
    /// `controller.quorum.request.timeout.ms`: an unanswered request is sent again after this long.
    public var requestTimeoutMs: Int64 = 2000
    /// How long a caught-up follower waits before fetching again. Kafka parks the fetch on the leader
    /// instead (its driver here does too, and sets this to 0); a simulation without parking polls.
    public var fetchIdleIntervalMs: Int64 = 500
    /// How long a follower waits before fetching again after an error answer (an observer not yet known
    /// to the leader, a leader that just stepped down, BROKER_NOT_AVAILABLE when the driver could not
    /// reach it), and an observer looking for the leader before asking the next voter.
    public var fetchErrorBackoffMs: Int64 = 500
    /// `metadata.max.idle.interval.ms`: an idle leader appends a no-op this often.
    public var idleIntervalMs: Int64 = 500
    /// The byte budget of one Fetch response (`controller.quorum.fetch.max.bytes`-like).
    public var fetchMaxBytes: Int = 8 * 1024 * 1024
    /// The chunk size a follower asks for with FetchSnapshot.
    public var snapshotChunkBytes: Int = 1024 * 1024

    public init(nodeId: ReplicaID, voters: Set<ReplicaID>, observers: Set<ReplicaID> = []) {
        self.nodeId = nodeId
        self.voters = voters
        self.observers = observers
    }

    /// Votes needed to win an election or commit: a strict majority of the voters.
    public var majority: Int { voters.count / 2 + 1 }

    public var isVoter: Bool { voters.contains(nodeId) }
}
