import MartletProtocol

/// The role a node plays in its current epoch (KRaft's `QuorumState` states, with KIP-996's Prospective).
public enum RaftRole: Hashable, Sendable {
    /// No leader known to follow (a voter that voted or is waiting for its election timeout, or an
    /// observer looking for the leader).
    case unattached
    /// Fetching from the known leader.
    case follower
    /// Asking for pre-votes: would the voters elect this node? The epoch is not bumped.
    case prospective
    /// Asking for votes in a freshly bumped epoch.
    case candidate
    case leader
    /// A former leader of this epoch that stepped down (gracefully or having lost its quorum), waiting
    /// for a successor.
    case resigned
}

/// Raft as KRaft runs it, as a value: no sockets, clocks, files or randomness of its own.
///
/// The driver feeds it messages (`step`), the time (`tick`) and proposals, then drains `takeReady()` for
/// what to persist, send and apply, and reports flushes back (`logFlushed`). Replication is pull-based:
/// followers Fetch, the leader answers with entries, a diverging epoch or a snapshot id. Every decision
/// depends only on the inputs and the seeded generator, so a simulation replays exactly from its seed.
public struct RaftNode: Sendable {
    public private(set) var config: RaftConfig
    var random: SplitMix64
    var log: RaftLog
    /// The latest snapshot, kept to serve FetchSnapshot.
    var snapshot: RaftSnapshot?
    public internal(set) var quorumState: QuorumState
    public internal(set) var role: RaftRole
    /// Entries below this offset are committed. Not persisted: a restarted node learns it again.
    public internal(set) var highWatermark: Int64
    /// Entries below this offset were handed to the driver to apply.
    public internal(set) var appliedOffset: Int64
    /// The log is durable up to here; only this much counts as the leader's own replica.
    var flushedEndOffset: Int64
    var truncations = 0
    var nowMs: Int64

    /// Voters that granted the current (pre-)vote round, self included.
    var votesGranted: Set<ReplicaID> = []
    /// When an unattached, prospective, candidate or resigned voter starts the next election round.
    var electionDeadlineMs: Int64 = 0
    var leaderState: LeaderState?

    /// Follower side: when the last fetch succeeded (the fetch timeout runs from here), whether one has
    /// succeeded at all since following this leader, when the one in flight was sent, and when to send
    /// the next.
    var lastFetchSuccessMs: Int64
    var hasFetchedFromLeader = false
    var fetchSentMs: Int64?
    var nextFetchMs: Int64
    var snapshotDownload: SnapshotDownload?

    var ready: RaftReady

    /// A node starting from what survived on disk. It never resumes leadership: a leader that restarts
    /// has lost its followers' progress, so it waits for (or wins) the next epoch.
    public init(config: RaftConfig, persisted: RaftPersistentState, nowMs: Int64, random: SplitMix64) {
        self.config = config
        self.random = random
        self.snapshot = persisted.snapshot
        self.log = RaftLog(snapshotId: persisted.snapshot?.id, entries: persisted.entries)
        self.quorumState = persisted.quorumState
        self.nowMs = nowMs
        highWatermark = log.startOffset
        appliedOffset = log.startOffset
        flushedEndOffset = log.endOffset
        lastFetchSuccessMs = nowMs
        nextFetchMs = nowMs
        ready = RaftReady(highWatermark: log.startOffset, flushToken: LogFlushToken(endOffset: log.endOffset, truncations: 0))
        if let leader = quorumState.leaderId, leader != config.nodeId {
            role = .follower
        } else {
            role = .unattached
        }
        electionDeadlineMs = nowMs + randomElectionTimeout()
        sendFetchIfDue()
    }

    // MARK: Driver interface

    public var epoch: Int32 { quorumState.epoch }
    public var nodeId: ReplicaID { config.nodeId }
    public var logEndOffset: Int64 { log.endOffset }
    public var logStartOffset: Int64 { log.startOffset }
    public var lastEpoch: Int32 { log.lastEpoch }

    /// The leader this node follows or is, if any.
    public var currentLeader: ReplicaID? {
        switch role {
        case .leader: config.nodeId
        case .follower: quorumState.leaderId
        default: nil
        }
    }

    /// Replaces the replicas allowed to fetch without voting (the brokers the metadata log has registered).
    public mutating func setObservers(_ observers: Set<ReplicaID>) {
        config.observers = observers
    }

    /// The entry at `offset`, if still in the log.
    public func entry(at offset: Int64) -> LogEntry? { log.entry(at: offset) }

    /// Hands over everything accumulated since the last call.
    public mutating func takeReady() -> RaftReady {
        var taken = ready
        taken.highWatermark = highWatermark
        taken.flushToken = LogFlushToken(endOffset: log.endOffset, truncations: truncations)
        ready = RaftReady(highWatermark: highWatermark, flushToken: taken.flushToken)
        return taken
    }

    /// Advances the clock and fires whatever timers expired.
    public mutating func tick(nowMs: Int64) {
        self.nowMs = max(self.nowMs, nowMs)
        switch role {
        case .leader:
            leaderTick()
        case .follower:
            if self.nowMs - lastFetchSuccessMs >= config.fetchTimeoutMs {
                if config.isVoter {
                    becomeProspective()
                } else {
                    becomeUnattached(epoch: epoch)
                }
            }
        case .unattached, .prospective, .candidate, .resigned:
            if config.isVoter && self.nowMs >= electionDeadlineMs { becomeProspective() }
        }
        if let sent = fetchSentMs, self.nowMs - sent >= config.requestTimeoutMs {
            fetchSentMs = nil
        }
        sendFetchIfDue()
    }

    /// Handles one message from `from`, at the time of the last tick.
    public mutating func step(_ message: RaftMessage, from: ReplicaID) {
        switch message {
        case .vote(let request): handleVote(request, from: from)
        case .voteResponse(let response): handleVoteResponse(response, from: from)
        case .beginQuorumEpoch(let request): handleBeginQuorumEpoch(request, from: from)
        case .beginQuorumEpochResponse(let response): handleBeginQuorumEpochResponse(response, from: from)
        case .endQuorumEpoch(let request): handleEndQuorumEpoch(request, from: from)
        case .endQuorumEpochResponse(let response): _ = observe(epoch: response.epoch, leader: response.leaderId)
        case .fetch(let request): handleFetch(request, from: from)
        case .fetchResponse(let response): handleFetchResponse(response, from: from)
        case .fetchSnapshot(let request): handleFetchSnapshot(request, from: from)
        case .fetchSnapshotResponse(let response): handleFetchSnapshotResponse(response, from: from)
        }
        sendFetchIfDue()
    }

    /// Why a proposal was refused.
    public enum ProposalError: Error, Hashable, Sendable {
        /// Only the leader appends; this is who this node thinks leads, in which epoch.
        case notLeader(leaderId: ReplicaID?, epoch: Int32)
    }

    /// Appends application records as the leader; returns the offsets they got. They are committed once
    /// the high watermark passes them, and may be lost if this leader is deposed before that.
    public mutating func propose(_ records: [[UInt8]]) throws(ProposalError) -> Range<Int64> {
        guard role == .leader else { throw .notLeader(leaderId: currentLeader, epoch: epoch) }
        let start = log.endOffset
        appendAsLeader(records.map { .data($0) })
        return start..<log.endOffset
    }

    /// The driver flushed the log as of a taken ready: the leader may count its own entries now, and a
    /// follower may acknowledge them with its next fetch.
    public mutating func logFlushed(_ token: LogFlushToken) {
        guard token.truncations == truncations else { return }
        flushedEndOffset = max(flushedEndOffset, min(token.endOffset, log.endOffset))
        if role == .leader { maybeAdvanceHighWatermark() }
        sendFetchIfDue()
    }

    /// Graceful resignation: ask the voters to elect a successor (EndQuorumEpoch), most caught-up first.
    public mutating func resign() {
        guard role == .leader, let leaderState else { return }
        let successors = leaderState.voters.filter { $0.key != config.nodeId }
            .sorted { ($0.value.endOffset ?? -1, $1.key) > ($1.value.endOffset ?? -1, $0.key) }.map(\.key)
        for voter in successors {
            send(.endQuorumEpoch(RaftEndQuorumEpochRequest(epoch: epoch, leaderId: config.nodeId, preferredSuccessors: successors)), to: voter)
        }
        becomeResigned()
    }

    // MARK: Transitions

    /// Moves to `epoch` (or stays in it) with no leader to follow. Entering a newer epoch forgets the
    /// vote and the leader of the old one.
    mutating func becomeUnattached(epoch newEpoch: Int32) {
        if newEpoch > epoch {
            quorumState = QuorumState(epoch: newEpoch)
            persistQuorumState()
        }
        leaveRole()
        role = .unattached
        electionDeadlineMs = nowMs + randomElectionTimeout()
    }

    /// Follows `leader` in `newEpoch`, which must not be older than the current one.
    mutating func becomeFollower(leader: ReplicaID, epoch newEpoch: Int32) {
        if newEpoch > epoch {
            quorumState = QuorumState(epoch: newEpoch, votedFor: nil, leaderId: leader)
            persistQuorumState()
        } else if quorumState.leaderId != leader {
            quorumState.leaderId = leader
            persistQuorumState()
        }
        leaveRole()
        role = .follower
        lastFetchSuccessMs = nowMs
        hasFetchedFromLeader = false
        nextFetchMs = nowMs
    }

    mutating func becomeResigned() {
        leaveRole()
        role = .resigned
        electionDeadlineMs = nowMs + config.electionTimeoutMs + randomElectionTimeout()
    }

    /// Drops what belonged to the previous role: the leader's replica tracking, a vote round, a fetch in
    /// flight or a snapshot download (they were aimed at the old leader).
    mutating func leaveRole() {
        leaderState = nil
        votesGranted = []
        fetchSentMs = nil
        snapshotDownload = nil
    }

    /// Learns from any message what its sender believes: a newer epoch moves this node there (following
    /// the named leader if there is one); a leader named for the current epoch is followed if this node
    /// had none. Returns false if the message is from an older epoch and must be ignored.
    mutating func observe(epoch theirEpoch: Int32, leader: ReplicaID?) -> Bool {
        if theirEpoch < epoch { return false }
        if theirEpoch > epoch {
            if let leader, leader != config.nodeId {
                becomeFollower(leader: leader, epoch: theirEpoch)
            } else {
                becomeUnattached(epoch: theirEpoch)
            }
        } else if let leader, leader != config.nodeId, role != .follower, role != .leader,
            quorumState.leaderId == nil || quorumState.leaderId == leader
        {
            becomeFollower(leader: leader, epoch: theirEpoch)
        }
        return true
    }

    // MARK: Output helpers

    mutating func send(_ message: RaftMessage, to replica: ReplicaID) {
        ready.messages.append(RaftEnvelope(to: replica, message: message))
    }

    mutating func persistQuorumState() {
        ready.quorumState = quorumState
    }

    mutating func reject(_ from: ReplicaID, _ error: KafkaErrorCode, _ reason: String) {
        ready.rejections.append(RaftRejection(from: from, error: error, reason: reason))
    }

    /// The election timeout with jitter: base plus up to base again, so voters rarely time out together.
    mutating func randomElectionTimeout() -> Int64 {
        config.electionTimeoutMs + Int64.random(in: 0..<max(1, config.electionTimeoutMs), using: &random)
    }

    /// Hands the driver every entry that became committed.
    mutating func applyCommitted() {
        while appliedOffset < highWatermark, let entry = log.entry(at: appliedOffset) {
            ready.committed.append(entry)
            appliedOffset += 1
        }
    }
}
