import MartletProtocol

/// Elections: pre-vote (KIP-996), votes with the log up-to-date check, BeginQuorumEpoch and
/// EndQuorumEpoch.
extension RaftNode {
    /// Asks the voters whether they would elect this node, without bumping the epoch: a node cut off
    /// from a healthy quorum cannot win one, so it cannot disrupt the leader when it comes back.
    mutating func becomeProspective() {
        leaveRole()
        role = .prospective
        votesGranted = [config.nodeId]
        electionDeadlineMs = nowMs + randomElectionTimeout()
        if votesGranted.count >= config.majority { return becomeCandidate() }
        requestVotes(preVote: true)
    }

    /// Bumps the epoch, votes for itself (persisted before any request leaves) and asks for votes.
    mutating func becomeCandidate() {
        leaveRole()
        quorumState = QuorumState(epoch: epoch + 1, votedFor: config.nodeId, leaderId: nil)
        persistQuorumState()
        role = .candidate
        votesGranted = [config.nodeId]
        electionDeadlineMs = nowMs + randomElectionTimeout()
        if votesGranted.count >= config.majority { return becomeLeader() }
        requestVotes(preVote: false)
    }

    private mutating func requestVotes(preVote: Bool) {
        let request = RaftVoteRequest(
            epoch: epoch, candidateId: config.nodeId, lastEpoch: log.lastEpoch, endOffset: log.endOffset, preVote: preVote)
        for voter in config.voters.sorted() where voter != config.nodeId {
            send(.vote(request), to: voter)
        }
    }

    /// Won the election: announce it (BeginQuorumEpoch) and append the leader-change record that opens
    /// the epoch, so that the high watermark has an entry of this epoch to commit.
    mutating func becomeLeader() {
        let granting = votesGranted.sorted()
        leaveRole()
        role = .leader
        quorumState.leaderId = config.nodeId
        persistQuorumState()
        leaderState = LeaderState(epochStartOffset: log.endOffset, voters: config.voters, nowMs: nowMs)
        appendAsLeader([.leaderChange(LeaderChange(leaderId: config.nodeId, voters: config.voters.sorted(), grantingVoters: granting))])
        sendBeginQuorumEpoch()
    }

    /// Announces the epoch to the voters that have not acknowledged it, and again to those that stopped
    /// fetching: a voter that gave up on this leader (or moved to a higher epoch it cannot win) learns of
    /// it, or answers with its epoch, which makes this leader step down instead of leaving it stranded.
    mutating func sendBeginQuorumEpoch() {
        guard let state = leaderState else { return }
        let silent = state.voters.filter { nowMs - $0.value.lastFetchMs >= config.fetchTimeoutMs }.keys
        for voter in config.voters.sorted()
        where voter != config.nodeId && (!state.acknowledged.contains(voter) || silent.contains(voter)) {
            send(.beginQuorumEpoch(RaftBeginQuorumEpochRequest(epoch: epoch, leaderId: config.nodeId)), to: voter)
        }
        leaderState?.lastBeginQuorumEpochMs = nowMs
    }

    mutating func handleVote(_ request: RaftVoteRequest, from: ReplicaID) {
        var granted = false
        var voteError = KafkaErrorCode.none
        defer {
            send(.voteResponse(RaftVoteResponse(error: voteError, epoch: epoch, leaderId: currentLeader, granted: granted, preVote: request.preVote)), to: from)
        }
        guard config.isVoter, config.voters.contains(request.candidateId), request.candidateId == from else {
            voteError = .inconsistentVoterSet
            reject(from, voteError, "vote for \(request.candidateId), which is not a voter (voters \(config.voters.sorted()))")
            return
        }
        guard request.epoch >= epoch else {
            voteError = .fencedLeaderEpoch
            reject(from, voteError, "vote in epoch \(request.epoch), current epoch \(epoch)")
            return
        }
        if !request.preVote && request.epoch > epoch { becomeUnattached(epoch: request.epoch) }
        let upToDate = OffsetAndEpoch(offset: request.endOffset, epoch: request.lastEpoch)
            .isAtLeastAsUpToDate(as: log.endOffsetAndEpoch)
        if request.preVote {
            // Only a leader proven alive by a fetch counts: a node that merely heard of a leader (and may
            // be following a dead one) must not block the election of its successor.
            let leaderAlive = role == .leader || (role == .follower && hasFetchedFromLeader)
            granted = upToDate && (request.epoch > epoch || !leaderAlive)
            if granted, role == .prospective, request.epoch == epoch, prefersItself(over: request) {
                // Two prospective voters that granted each other would both stand and split the vote
                // (the followers of a dead leader time out within milliseconds of each other): only the
                // preferred one goes on, and it asks again, now that the other is prospective too.
                granted = false
                send(.vote(RaftVoteRequest(
                    epoch: epoch, candidateId: config.nodeId, lastEpoch: log.lastEpoch, endOffset: log.endOffset, preVote: true)), to: from)
            }
        } else {
            // One vote per epoch, and none in an epoch that already has a leader.
            granted = upToDate && quorumState.leaderId == nil
                && (quorumState.votedFor == nil || quorumState.votedFor == request.candidateId)
            if granted && quorumState.votedFor == nil {
                quorumState.votedFor = request.candidateId
                persistQuorumState()
                leaveRole()
                role = .unattached
                electionDeadlineMs = nowMs + randomElectionTimeout()
            }
        }
    }

    /// Between two prospective voters, the one with the more up-to-date log, or the lower id when the logs
    /// end alike, is the one to stand.
    private func prefersItself(over request: RaftVoteRequest) -> Bool {
        let theirs = OffsetAndEpoch(offset: request.endOffset, epoch: request.lastEpoch)
        let ours = log.endOffsetAndEpoch
        if theirs == ours { return config.nodeId < request.candidateId }
        return !theirs.isAtLeastAsUpToDate(as: ours)
    }

    mutating func handleVoteResponse(_ response: RaftVoteResponse, from: ReplicaID) {
        // A prospective voter has given up on its epoch's leader: a vote response naming that leader again
        // (or granting, which says the voter does not believe in it either) must not send it back to
        // following a leader that may be dead, or the survivors of a dead leader take turns returning to
        // it. A live leader re-announces its epoch to voters that stopped fetching, which brings this one
        // back if it was only cut off.
        let namesAbandonedLeader = role == .prospective && response.epoch == epoch
            && ((response.preVote && response.granted && response.error == .none) || response.leaderId == quorumState.leaderId)
        if response.epoch >= epoch && !namesAbandonedLeader { _ = observe(epoch: response.epoch, leader: response.leaderId) }
        guard response.error == .none, response.granted, config.voters.contains(from) else { return }
        if response.preVote {
            guard role == .prospective, response.epoch <= epoch else { return }
            votesGranted.insert(from)
            if votesGranted.count >= config.majority { becomeCandidate() }
        } else {
            guard role == .candidate, response.epoch == epoch else { return }
            votesGranted.insert(from)
            if votesGranted.count >= config.majority { becomeLeader() }
        }
    }

    mutating func handleBeginQuorumEpoch(_ request: RaftBeginQuorumEpochRequest, from: ReplicaID) {
        var error = KafkaErrorCode.none
        defer {
            send(.beginQuorumEpochResponse(RaftEpochResponse(error: error, epoch: epoch, leaderId: currentLeader)), to: from)
        }
        guard config.voters.contains(request.leaderId), request.leaderId == from else {
            error = .inconsistentVoterSet
            reject(from, error, "BeginQuorumEpoch from \(request.leaderId), which is not a voter")
            return
        }
        guard request.epoch >= epoch else {
            error = .fencedLeaderEpoch
            reject(from, error, "BeginQuorumEpoch for epoch \(request.epoch), current epoch \(epoch)")
            return
        }
        if request.epoch == epoch, let known = quorumState.leaderId, known != request.leaderId {
            error = .invalidRequest
            reject(from, error, "BeginQuorumEpoch from \(request.leaderId) in epoch \(epoch), whose leader is \(known)")
            return
        }
        if !(role == .follower && request.epoch == epoch) {
            becomeFollower(leader: request.leaderId, epoch: request.epoch)
        }
    }

    mutating func handleBeginQuorumEpochResponse(_ response: RaftEpochResponse, from: ReplicaID) {
        guard observe(epoch: response.epoch, leader: response.leaderId) else { return }
        if role == .leader, response.epoch == epoch, response.error == .none {
            leaderState?.acknowledged.insert(from)
        }
    }

    /// The leader resigns: stop following it and start an election soon, the preferred successors first
    /// (the first at once, the others after a growing backoff), as Kafka's `endQuorumEpochElectionBackoff`.
    mutating func handleEndQuorumEpoch(_ request: RaftEndQuorumEpochRequest, from: ReplicaID) {
        var error = KafkaErrorCode.none
        defer {
            send(.endQuorumEpochResponse(RaftEpochResponse(error: error, epoch: epoch, leaderId: currentLeader)), to: from)
        }
        guard config.voters.contains(request.leaderId), request.leaderId == from else {
            error = .inconsistentVoterSet
            reject(from, error, "EndQuorumEpoch from \(request.leaderId), which is not a voter")
            return
        }
        guard request.epoch >= epoch else {
            error = .fencedLeaderEpoch
            reject(from, error, "EndQuorumEpoch for epoch \(request.epoch), current epoch \(epoch)")
            return
        }
        if request.epoch > epoch { becomeUnattached(epoch: request.epoch) }
        if quorumState.leaderId != request.leaderId {
            // The epoch had this leader: remember it so that no vote is granted in it.
            quorumState.leaderId = request.leaderId
            persistQuorumState()
        }
        guard role == .follower || role == .unattached else { return }
        leaveRole()
        role = .unattached
        let position = request.preferredSuccessors.firstIndex(of: config.nodeId) ?? request.preferredSuccessors.count
        let backoff = position == 0 ? 0 : min(config.electionBackoffMaxMs, Int64(50) << min(position, 10))
        electionDeadlineMs = nowMs + backoff + (position == 0 ? 0 : Int64.random(in: 0..<50, using: &random))
    }
}
