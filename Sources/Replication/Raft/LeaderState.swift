/// What a leader knows about each replica in its epoch, from their fetches (KRaft's `LeaderState`).
struct LeaderState: Sendable {
    /// What the leader knows about one replica.
    struct Progress: Sendable {
        /// The replica's end offset as proven by its last valid fetch (its log matches up to here), or nil
        /// before its first valid fetch in this epoch.
        var endOffset: Int64?
        /// When it last fetched, valid or not: the leader's evidence that it still has a quorum.
        var lastFetchMs: Int64
        /// When its fetch last reached the leader's log end.
        var lastCaughtUpMs: Int64?
    }

    /// Where this epoch's first entry (the leader-change record) sits: the high watermark may only pass
    /// it, so that an entry of the leader's own epoch is committed before any earlier one is declared so.
    let epochStartOffset: Int64
    var voters: [ReplicaID: Progress]
    var observers: [ReplicaID: Progress] = [:]
    /// Voters that answered BeginQuorumEpoch or fetched; the others get it again.
    var acknowledged: Set<ReplicaID> = []
    var lastBeginQuorumEpochMs: Int64
    /// When the leader last appended, for the idle no-op.
    var lastAppendMs: Int64

    init(epochStartOffset: Int64, voters: Set<ReplicaID>, nowMs: Int64) {
        self.epochStartOffset = epochStartOffset
        self.voters = Dictionary(uniqueKeysWithValues: voters.map { ($0, Progress(endOffset: nil, lastFetchMs: nowMs)) })
        lastBeginQuorumEpochMs = nowMs
        lastAppendMs = nowMs
    }

    /// Records a valid fetch. End offsets only move forward: a reordered older fetch proves nothing new.
    mutating func recordFetch(from replica: ReplicaID, fetchOffset: Int64, leaderEndOffset: Int64, nowMs: Int64) {
        func update(_ progress: inout Progress) {
            progress.endOffset = max(progress.endOffset ?? fetchOffset, fetchOffset)
            progress.lastFetchMs = nowMs
            if fetchOffset >= leaderEndOffset { progress.lastCaughtUpMs = nowMs }
        }
        if voters[replica] != nil {
            update(&voters[replica]!)
            acknowledged.insert(replica)
        } else {
            var progress = observers[replica] ?? Progress(endOffset: nil, lastFetchMs: nowMs)
            update(&progress)
            observers[replica] = progress
        }
    }

    /// The offset a majority of voters hold, counting the leader's own flushed end: the high watermark
    /// candidate.
    func majorityEndOffset(leader: ReplicaID, leaderFlushedEnd: Int64) -> Int64 {
        let ends = voters.map { id, progress in id == leader ? leaderFlushedEnd : (progress.endOffset ?? -1) }
            .sorted(by: >)
        return ends[voters.count / 2]
    }

    /// Whether a majority (the leader included) fetched within `windowMs`; if not, the leader may be cut
    /// off and must resign rather than block the quorum (Kafka's check-quorum).
    func hasQuorum(leader: ReplicaID, nowMs: Int64, windowMs: Int64) -> Bool {
        let live = voters.filter { id, progress in id == leader || nowMs - progress.lastFetchMs < windowMs }.count
        return live >= voters.count / 2 + 1
    }
}
