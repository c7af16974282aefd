import MartletProtocol

/// The follower's side of pull replication: one fetch in flight, acting only on the answer to where its
/// log ends now, truncating on a diverging epoch, and never acknowledging what is not flushed.
extension RaftNode {
    /// Sends the next Fetch (or FetchSnapshot chunk request) if one is due. A follower fetches only from
    /// its flushed end, so the offset it reports to the leader is one a crash cannot take back; an
    /// observer without a leader asks a random voter, whose answer names the leader.
    mutating func sendFetchIfDue() {
        guard fetchSentMs == nil, nowMs >= nextFetchMs else { return }
        let target: ReplicaID
        if role == .follower, let leader = quorumState.leaderId {
            target = leader
        } else if role == .unattached, !config.isVoter, let voter = config.voters.sorted().randomElement(using: &random) {
            target = voter
            nextFetchMs = nowMs + config.requestTimeoutMs
        } else {
            return
        }
        if let download = snapshotDownload {
            send(
                .fetchSnapshot(RaftFetchSnapshotRequest(
                    replicaId: config.nodeId, currentLeaderEpoch: epoch, snapshotId: download.id,
                    position: Int64(download.bytes.count), maxBytes: config.snapshotChunkBytes)),
                to: target)
        } else {
            guard flushedEndOffset == log.endOffset else { return }
            send(
                .fetch(RaftFetchRequest(
                    replicaId: config.nodeId, currentLeaderEpoch: epoch, fetchOffset: log.endOffset,
                    lastFetchedEpoch: log.lastEpoch, maxBytes: config.fetchMaxBytes)),
                to: target)
        }
        fetchSentMs = nowMs
    }

    mutating func handleFetchResponse(_ response: RaftFetchResponse, from: ReplicaID) {
        guard observe(epoch: response.epoch, leader: response.leaderId) else { return }
        if role == .unattached, !config.isVoter {
            // The voter asked for the leader named none this node can follow (or could not be reached):
            // ask another one soon rather than after the request timeout.
            fetchSentMs = nil
            nextFetchMs = nowMs + config.fetchErrorBackoffMs
            return
        }
        guard role == .follower, from == quorumState.leaderId, response.epoch == epoch else { return }
        if response.error != .none {
            fetchSentMs = nil
            nextFetchMs = nowMs + config.fetchErrorBackoffMs
            // An observer whose leader cannot be reached looks for the leader among the voters at once; a
            // voter keeps trying until its fetch timeout, since only that may start an election.
            if response.error == .brokerNotAvailable && !config.isVoter { becomeUnattached(epoch: epoch) }
            return
        }
        // An answer to an earlier position (duplicated, reordered, or from before a truncation) says
        // nothing about the log as it is now.
        guard snapshotDownload == nil, response.fetchOffset == log.endOffset, response.lastFetchedEpoch == log.lastEpoch else {
            return
        }
        fetchSentMs = nil
        lastFetchSuccessMs = nowMs
        hasFetchedFromLeader = true
        nextFetchMs = nowMs
        switch response.outcome {
        case .records(let entries):
            guard appendAsFollower(entries, from: from) else { return }
            let leaderHighWatermark = min(response.highWatermark, log.endOffset)
            if leaderHighWatermark > highWatermark {
                highWatermark = leaderHighWatermark
                applyCommitted()
            }
            if entries.isEmpty { nextFetchMs = nowMs + config.fetchIdleIntervalMs }
        case .divergingEpoch(let end):
            let offset = log.truncationOffset(forDiverging: end)
            guard offset >= highWatermark else {
                return reject(from, .invalidRequest, "diverging epoch \(end) would truncate below the high watermark \(highWatermark)")
            }
            truncate(to: offset)
        case .snapshot(let id):
            snapshotDownload = SnapshotDownload(id: id)
        }
    }

    /// Appends entries from the leader after checking they continue this log in order, in epochs no
    /// newer than the leader's.
    private mutating func appendAsFollower(_ entries: [LogEntry], from: ReplicaID) -> Bool {
        var expectedOffset = log.endOffset
        var lastEpoch = log.lastEpoch
        for entry in entries {
            guard entry.offset == expectedOffset, entry.epoch >= lastEpoch, entry.epoch <= epoch else {
                reject(from, .corruptMessage, "fetched entry \(entry.offset)@\(entry.epoch) does not continue the log at \(expectedOffset)@\(lastEpoch)")
                return false
            }
            expectedOffset += 1
            lastEpoch = entry.epoch
        }
        guard !entries.isEmpty else { return true }
        for entry in entries { log.append(entry) }
        ready.logOperations.append(.append(entries))
        return true
    }

    mutating func truncate(to offset: Int64) {
        guard offset < log.endOffset else { return }
        log.truncate(to: offset)
        ready.logOperations.append(.truncate(from: offset))
        truncations += 1
        flushedEndOffset = min(flushedEndOffset, offset)
    }
}
