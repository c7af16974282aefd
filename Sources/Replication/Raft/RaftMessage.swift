import MartletProtocol

/// The KRaft RPCs as the core speaks them: the fields the protocol needs, without topic/partition
/// nesting or wire versions. `RaftWire` maps each onto the generated Kafka messages.
///
/// Responses carry what the responder believes about the quorum (`epoch`, `leaderId`), as every KRaft
/// response does, so any exchange can teach a node a newer epoch.
public enum RaftMessage: Hashable, Sendable {
    case vote(RaftVoteRequest)
    case voteResponse(RaftVoteResponse)
    case beginQuorumEpoch(RaftBeginQuorumEpochRequest)
    case beginQuorumEpochResponse(RaftEpochResponse)
    case endQuorumEpoch(RaftEndQuorumEpochRequest)
    case endQuorumEpochResponse(RaftEpochResponse)
    case fetch(RaftFetchRequest)
    case fetchResponse(RaftFetchResponse)
    case fetchSnapshot(RaftFetchSnapshotRequest)
    case fetchSnapshotResponse(RaftFetchSnapshotResponse)
}

/// Vote: a candidate asks for a vote in `epoch`; a pre-vote (KIP-996) asks whether it would get one,
/// at its current epoch, without anyone changing state.
public struct RaftVoteRequest: Hashable, Sendable {
    public var epoch: Int32
    public var candidateId: ReplicaID
    /// The candidate's last epoch and end offset, for the up-to-date check.
    public var lastEpoch: Int32
    public var endOffset: Int64
    public var preVote: Bool

    public init(epoch: Int32, candidateId: ReplicaID, lastEpoch: Int32, endOffset: Int64, preVote: Bool) {
        self.epoch = epoch
        self.candidateId = candidateId
        self.lastEpoch = lastEpoch
        self.endOffset = endOffset
        self.preVote = preVote
    }
}

public struct RaftVoteResponse: Hashable, Sendable {
    public var error: KafkaErrorCode
    public var epoch: Int32
    public var leaderId: ReplicaID?
    public var granted: Bool
    /// Echoes the request's flag (on the wire the driver knows it from the request it sent).
    public var preVote: Bool

    public init(error: KafkaErrorCode = .none, epoch: Int32, leaderId: ReplicaID?, granted: Bool, preVote: Bool) {
        self.error = error
        self.epoch = epoch
        self.leaderId = leaderId
        self.granted = granted
        self.preVote = preVote
    }
}

/// BeginQuorumEpoch: a new leader announces itself to the voters.
public struct RaftBeginQuorumEpochRequest: Hashable, Sendable {
    public var epoch: Int32
    public var leaderId: ReplicaID

    public init(epoch: Int32, leaderId: ReplicaID) {
        self.epoch = epoch
        self.leaderId = leaderId
    }
}

/// EndQuorumEpoch: a resigning leader asks the voters to elect a successor, best candidates first.
public struct RaftEndQuorumEpochRequest: Hashable, Sendable {
    public var epoch: Int32
    public var leaderId: ReplicaID
    public var preferredSuccessors: [ReplicaID]

    public init(epoch: Int32, leaderId: ReplicaID, preferredSuccessors: [ReplicaID]) {
        self.epoch = epoch
        self.leaderId = leaderId
        self.preferredSuccessors = preferredSuccessors
    }
}

/// The response of BeginQuorumEpoch and EndQuorumEpoch: an error and the responder's view of the quorum.
public struct RaftEpochResponse: Hashable, Sendable {
    public var error: KafkaErrorCode
    public var epoch: Int32
    public var leaderId: ReplicaID?

    public init(error: KafkaErrorCode = .none, epoch: Int32, leaderId: ReplicaID?) {
        self.error = error
        self.epoch = epoch
        self.leaderId = leaderId
    }
}

/// Fetch on `__cluster_metadata-0`: a replica pulls from `fetchOffset`, telling the leader the epoch of
/// its last entry so the leader can check that their logs agree up to there.
public struct RaftFetchRequest: Hashable, Sendable {
    public var replicaId: ReplicaID
    public var currentLeaderEpoch: Int32
    public var fetchOffset: Int64
    public var lastFetchedEpoch: Int32
    public var maxBytes: Int

    public init(replicaId: ReplicaID, currentLeaderEpoch: Int32, fetchOffset: Int64, lastFetchedEpoch: Int32, maxBytes: Int) {
        self.replicaId = replicaId
        self.currentLeaderEpoch = currentLeaderEpoch
        self.fetchOffset = fetchOffset
        self.lastFetchedEpoch = lastFetchedEpoch
        self.maxBytes = maxBytes
    }
}

public struct RaftFetchResponse: Hashable, Sendable {
    /// What the leader tells the follower to do next.
    public enum Outcome: Hashable, Sendable {
        /// Entries from the fetch offset (possibly none): append them.
        case records([LogEntry])
        /// The follower's log diverges: truncate to at most this epoch's end and fetch again.
        case divergingEpoch(OffsetAndEpoch)
        /// The fetch offset is below the leader's log start: download this snapshot first.
        case snapshot(OffsetAndEpoch)
    }

    public var error: KafkaErrorCode
    public var epoch: Int32
    public var leaderId: ReplicaID?
    public var highWatermark: Int64
    public var logStartOffset: Int64
    public var outcome: Outcome
    /// The request's position, which the driver pairs with the response (Kafka matches responses to
    /// requests by correlation id): a follower only acts on an answer to where its log ends now.
    public var fetchOffset: Int64
    public var lastFetchedEpoch: Int32

    public init(
        error: KafkaErrorCode = .none, epoch: Int32, leaderId: ReplicaID?, highWatermark: Int64 = -1,
        logStartOffset: Int64 = -1, outcome: Outcome = .records([]), fetchOffset: Int64, lastFetchedEpoch: Int32
    ) {
        self.error = error
        self.epoch = epoch
        self.leaderId = leaderId
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
        self.outcome = outcome
        self.fetchOffset = fetchOffset
        self.lastFetchedEpoch = lastFetchedEpoch
    }
}

/// FetchSnapshot: a follower downloads snapshot `snapshotId` from byte `position`.
public struct RaftFetchSnapshotRequest: Hashable, Sendable {
    public var replicaId: ReplicaID
    public var currentLeaderEpoch: Int32
    public var snapshotId: OffsetAndEpoch
    public var position: Int64
    public var maxBytes: Int

    public init(replicaId: ReplicaID, currentLeaderEpoch: Int32, snapshotId: OffsetAndEpoch, position: Int64, maxBytes: Int) {
        self.replicaId = replicaId
        self.currentLeaderEpoch = currentLeaderEpoch
        self.snapshotId = snapshotId
        self.position = position
        self.maxBytes = maxBytes
    }
}

public struct RaftFetchSnapshotResponse: Hashable, Sendable {
    public var error: KafkaErrorCode
    public var epoch: Int32
    public var leaderId: ReplicaID?
    public var snapshotId: OffsetAndEpoch
    /// The whole snapshot's size in bytes.
    public var size: Int64
    /// Where `bytes` starts in the snapshot.
    public var position: Int64
    public var bytes: [UInt8]

    public init(
        error: KafkaErrorCode = .none, epoch: Int32, leaderId: ReplicaID?, snapshotId: OffsetAndEpoch,
        size: Int64 = -1, position: Int64 = -1, bytes: [UInt8] = []
    ) {
        self.error = error
        self.epoch = epoch
        self.leaderId = leaderId
        self.snapshotId = snapshotId
        self.size = size
        self.position = position
        self.bytes = bytes
    }
}
