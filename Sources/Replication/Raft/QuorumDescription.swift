/// The leader's view of the quorum, what DescribeQuorum reports: each replica's log end offset as the
/// leader last saw it, and when it last fetched and was last caught up.
public struct QuorumDescription: Hashable, Sendable {
    public struct Replica: Hashable, Sendable {
        public var replicaId: ReplicaID
        /// -1 before its first valid fetch in this epoch.
        public var logEndOffset: Int64
        public var lastFetchMs: Int64
        public var lastCaughtUpMs: Int64

        public init(replicaId: ReplicaID, logEndOffset: Int64, lastFetchMs: Int64, lastCaughtUpMs: Int64) {
            self.replicaId = replicaId
            self.logEndOffset = logEndOffset
            self.lastFetchMs = lastFetchMs
            self.lastCaughtUpMs = lastCaughtUpMs
        }
    }

    public var leaderId: ReplicaID
    public var epoch: Int32
    public var highWatermark: Int64
    public var leaderEndOffset: Int64
    public var voters: [Replica]
    public var observers: [Replica]

    public init(
        leaderId: ReplicaID, epoch: Int32, highWatermark: Int64, leaderEndOffset: Int64, voters: [Replica], observers: [Replica]
    ) {
        self.leaderId = leaderId
        self.epoch = epoch
        self.highWatermark = highWatermark
        self.leaderEndOffset = leaderEndOffset
        self.voters = voters
        self.observers = observers
    }

    /// How far a replica trails the leader's log end (what `kafka-metadata-quorum describe --replication`
    /// shows as lag).
    public func lag(of replica: Replica) -> Int64 {
        replica.logEndOffset < 0 ? leaderEndOffset : max(0, leaderEndOffset - replica.logEndOffset)
    }
}
