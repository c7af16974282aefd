/// The quorum state a node must persist before acting on it (Kafka's `quorum-state` file,
/// `QuorumStateData`): the epoch, whom it voted for in it and the leader it knows of in it. Losing the
/// vote would let a node vote twice in one epoch; losing a known leader would let it vote in an epoch
/// that already has one.
public struct QuorumState: Hashable, Sendable {
    public var epoch: Int32
    public var votedFor: ReplicaID?
    public var leaderId: ReplicaID?

    public init(epoch: Int32 = 0, votedFor: ReplicaID? = nil, leaderId: ReplicaID? = nil) {
        self.epoch = epoch
        self.votedFor = votedFor
        self.leaderId = leaderId
    }
}

/// A snapshot of the applied state at `id.offset` (everything below it), taken in epoch `id.epoch`.
/// The bytes are opaque to the core, which only serves them to followers in chunks.
public struct RaftSnapshot: Hashable, Sendable {
    public var id: OffsetAndEpoch
    public var bytes: [UInt8]

    public init(id: OffsetAndEpoch, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }
}

/// What survived on disk when a node starts: the quorum state, the latest snapshot and the flushed log
/// after it.
public struct RaftPersistentState: Hashable, Sendable {
    public var quorumState: QuorumState
    public var snapshot: RaftSnapshot?
    public var entries: [LogEntry]

    public init(quorumState: QuorumState = QuorumState(), snapshot: RaftSnapshot? = nil, entries: [LogEntry] = []) {
        self.quorumState = quorumState
        self.snapshot = snapshot
        self.entries = entries
    }
}
