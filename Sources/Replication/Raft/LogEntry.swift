/// A Kafka replica id (`node.id`): voters and observers of the metadata quorum are named by it.
public typealias ReplicaID = Int32

/// A position in the replicated log together with the leader epoch that wrote it, the pair KRaft compares
/// everywhere: vote up-to-dateness, fetch validation, diverging epochs and snapshot ids.
public struct OffsetAndEpoch: Hashable, Sendable, CustomStringConvertible {
    public var offset: Int64
    public var epoch: Int32

    public init(offset: Int64, epoch: Int32) {
        self.offset = offset
        self.epoch = epoch
    }

    /// Raft's "at least as up-to-date": a later last epoch wins, then a longer log.
    public func isAtLeastAsUpToDate(as other: OffsetAndEpoch) -> Bool {
        epoch != other.epoch ? epoch > other.epoch : offset >= other.offset
    }

    public var description: String { "\(offset)@\(epoch)" }
}

/// What one log entry carries. The core only needs to tell its own control entries apart from the
/// application's opaque records; the driver maps these onto Kafka record batches.
public enum EntryPayload: Hashable, Sendable {
    /// An application record (for the controller: one serialized metadata record).
    case data([UInt8])
    /// The LEADER_CHANGE control record a new leader appends first, so that its epoch has an entry to commit.
    case leaderChange(LeaderChange)
    /// A NoOpRecord the idle leader appends so the high watermark keeps moving and followers see progress.
    case noOp

    /// The size counted against a fetch's byte budget.
    public var size: Int {
        switch self {
        case .data(let bytes): bytes.count
        case .leaderChange(let change): 8 + 4 * (change.voters.count + change.grantingVoters.count)
        case .noOp: 4
        }
    }
}

/// `LeaderChangeMessage`: who leads, out of which voters, elected by whom.
public struct LeaderChange: Hashable, Sendable {
    public var leaderId: ReplicaID
    public var voters: [ReplicaID]
    public var grantingVoters: [ReplicaID]

    public init(leaderId: ReplicaID, voters: [ReplicaID], grantingVoters: [ReplicaID]) {
        self.leaderId = leaderId
        self.voters = voters
        self.grantingVoters = grantingVoters
    }
}

/// One entry of the replicated log: its offset, the epoch of the leader that appended it, and its payload.
public struct LogEntry: Hashable, Sendable {
    public var offset: Int64
    public var epoch: Int32
    public var payload: EntryPayload

    public init(offset: Int64, epoch: Int32, payload: EntryPayload) {
        self.offset = offset
        self.epoch = epoch
        self.payload = payload
    }
}
