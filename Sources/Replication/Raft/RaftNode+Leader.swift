import MartletProtocol

/// The leader's side of replication: appending, answering fetches, the high watermark, idle no-ops,
/// BeginQuorumEpoch retries and check-quorum.
extension RaftNode {
    mutating func appendAsLeader(_ payloads: [EntryPayload]) {
        var appended: [LogEntry] = []
        for payload in payloads {
            let entry = LogEntry(offset: log.endOffset, epoch: epoch, payload: payload)
            log.append(entry)
            appended.append(entry)
        }
        ready.logOperations.append(.append(appended))
        leaderState?.lastAppendMs = nowMs
    }

    mutating func leaderTick() {
        guard let state = leaderState else { return }
        if !state.hasQuorum(leader: config.nodeId, nowMs: nowMs, windowMs: config.fetchTimeoutMs * 3 / 2) {
            return resign()
        }
        if nowMs - state.lastAppendMs >= config.idleIntervalMs { appendAsLeader([.noOp]) }
        if nowMs - state.lastBeginQuorumEpochMs >= config.requestTimeoutMs { sendBeginQuorumEpoch() }
    }

    /// KRaft's rule: the high watermark is the end offset a majority of voters hold (the leader's own
    /// counted only once flushed), and it moves only past the epoch's first entry, so that entries of
    /// older epochs are committed only together with one of the leader's own.
    mutating func maybeAdvanceHighWatermark() {
        guard let state = leaderState else { return }
        let majorityEnd = state.majorityEndOffset(leader: config.nodeId, leaderFlushedEnd: flushedEndOffset)
        if majorityEnd > state.epochStartOffset && majorityEnd > highWatermark {
            highWatermark = majorityEnd
            applyCommitted()
        }
    }

    /// Checks a replica's request against the quorum: known replica, current epoch, this node leading.
    /// Returns the error to answer with, or nil if the leader should serve it.
    mutating func checkReplicaRequest(replicaId: ReplicaID, currentLeaderEpoch: Int32, from: ReplicaID, what: String) -> KafkaErrorCode? {
        guard replicaId == from, replicaId != config.nodeId,
            config.voters.contains(replicaId) || config.observers.contains(replicaId)
        else {
            reject(from, .invalidRequest, "\(what) from unknown replica \(replicaId)")
            return .invalidRequest
        }
        if currentLeaderEpoch < epoch {
            reject(from, .fencedLeaderEpoch, "\(what) in epoch \(currentLeaderEpoch), current epoch \(epoch)")
            return .fencedLeaderEpoch
        }
        if currentLeaderEpoch > epoch { return .unknownLeaderEpoch }
        guard role == .leader else { return .notLeaderOrFollower }
        leaderState?.voters[replicaId]?.lastFetchMs = nowMs
        return nil
    }

    mutating func handleFetch(_ request: RaftFetchRequest, from: ReplicaID) {
        func answer(_ error: KafkaErrorCode, _ outcome: RaftFetchResponse.Outcome = .records([])) {
            send(
                .fetchResponse(RaftFetchResponse(
                    error: error, epoch: epoch, leaderId: currentLeader, highWatermark: highWatermark,
                    logStartOffset: log.startOffset, outcome: outcome, fetchOffset: request.fetchOffset,
                    lastFetchedEpoch: request.lastFetchedEpoch)),
                to: from)
        }
        guard request.fetchOffset >= 0, request.lastFetchedEpoch >= 0, request.lastFetchedEpoch <= request.currentLeaderEpoch else {
            reject(from, .invalidRequest, "fetch at \(request.fetchOffset) epoch \(request.lastFetchedEpoch) in epoch \(request.currentLeaderEpoch)")
            return answer(.invalidRequest)
        }
        if let error = checkReplicaRequest(
            replicaId: request.replicaId, currentLeaderEpoch: request.currentLeaderEpoch, from: from, what: "fetch")
        {
            return answer(error)
        }
        switch log.validate(fetchOffset: request.fetchOffset, lastFetchedEpoch: request.lastFetchedEpoch) {
        case .snapshot(let id):
            answer(.none, .snapshot(id))
        case .diverging(let end):
            answer(.none, .divergingEpoch(end))
        case .valid:
            leaderState?.recordFetch(from: from, fetchOffset: request.fetchOffset, leaderEndOffset: log.endOffset, nowMs: nowMs)
            maybeAdvanceHighWatermark()
            let maxBytes = min(request.maxBytes, config.fetchMaxBytes)
            answer(.none, .records(log.entries(from: request.fetchOffset, maxBytes: maxBytes)))
        }
    }

    /// DescribeQuorum, answered by the leader only.
    public func describeQuorum() -> QuorumDescription? {
        guard role == .leader, let state = leaderState else { return nil }
        func replicas(_ progress: [ReplicaID: LeaderState.Progress]) -> [QuorumDescription.Replica] {
            progress.keys.sorted().map { id in
                let p = progress[id]!
                if id == config.nodeId {
                    return .init(replicaId: id, logEndOffset: log.endOffset, lastFetchMs: nowMs, lastCaughtUpMs: nowMs)
                }
                return .init(replicaId: id, logEndOffset: p.endOffset ?? -1, lastFetchMs: p.lastFetchMs, lastCaughtUpMs: p.lastCaughtUpMs ?? -1)
            }
        }
        return QuorumDescription(
            leaderId: config.nodeId, epoch: epoch, highWatermark: highWatermark, leaderEndOffset: log.endOffset,
            voters: replicas(state.voters), observers: replicas(state.observers))
    }
}
