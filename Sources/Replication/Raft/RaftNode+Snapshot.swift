import MartletProtocol

/// A follower's snapshot download in progress: which snapshot, its size once known, the bytes so far.
struct SnapshotDownload: Sendable {
    let id: OffsetAndEpoch
    var size: Int64?
    var bytes: [UInt8] = []

    init(id: OffsetAndEpoch) { self.id = id }
}

/// Snapshots (KIP-630): taking them to drop the log prefix, serving them with FetchSnapshot, and a
/// follower downloading and installing one when it has fallen behind the leader's log start.
extension RaftNode {
    /// The driver wrote a snapshot of its applied state: the log prefix below it may go. Refused (false)
    /// unless it ends at an applied offset inside the log and names the epoch of the entry before it.
    public mutating func snapshotCreated(_ snapshot: RaftSnapshot) -> Bool {
        let id = snapshot.id
        guard id.offset <= appliedOffset, id.offset > log.startOffset, log.entry(at: id.offset - 1)?.epoch == id.epoch else {
            return false
        }
        log.startAfter(snapshot: id)
        self.snapshot = snapshot
        ready.logOperations.append(.deletePrefix(before: id.offset))
        return true
    }

    /// The latest snapshot, if any.
    public var latestSnapshotId: OffsetAndEpoch? { snapshot?.id }

    mutating func handleFetchSnapshot(_ request: RaftFetchSnapshotRequest, from: ReplicaID) {
        func answer(_ error: KafkaErrorCode, size: Int64 = -1, position: Int64 = -1, bytes: ArraySlice<UInt8> = []) {
            send(
                .fetchSnapshotResponse(RaftFetchSnapshotResponse(
                    error: error, epoch: epoch, leaderId: currentLeader, snapshotId: request.snapshotId, size: size,
                    position: position, bytes: Array(bytes))),
                to: from)
        }
        if let error = checkReplicaRequest(
            replicaId: request.replicaId, currentLeaderEpoch: request.currentLeaderEpoch, from: from, what: "FetchSnapshot")
        {
            return answer(error)
        }
        guard let snapshot, snapshot.id == request.snapshotId else {
            reject(from, .snapshotNotFound, "FetchSnapshot of \(request.snapshotId), latest is \(self.snapshot?.id.description ?? "none")")
            return answer(.snapshotNotFound)
        }
        let size = Int64(snapshot.bytes.count)
        // As Kafka: a position at the end is out of range too; a follower installs the snapshot once the
        // chunk it has ends there, so it never asks for it.
        guard request.position >= 0, request.position < size else {
            reject(from, .positionOutOfRange, "FetchSnapshot at \(request.position) of a \(size)-byte snapshot")
            return answer(.positionOutOfRange)
        }
        let start = Int(request.position)
        let end = min(Int(size), start + max(0, request.maxBytes))
        answer(.none, size: size, position: request.position, bytes: snapshot.bytes[start..<end])
    }

    /// Takes a chunk that continues the download exactly; anything else (a chunk at another position, past
    /// the announced size, or a size that changed) is refused and the chunk asked for again.
    mutating func handleFetchSnapshotResponse(_ response: RaftFetchSnapshotResponse, from: ReplicaID) {
        guard observe(epoch: response.epoch, leader: response.leaderId) else { return }
        guard role == .follower, from == quorumState.leaderId, response.epoch == epoch,
            var download = snapshotDownload, response.snapshotId == download.id
        else { return }
        fetchSentMs = nil
        guard response.error == .none else {
            // The leader has moved on to a newer snapshot (or stopped leading): start over with a fetch.
            snapshotDownload = nil
            nextFetchMs = nowMs + (response.error == .snapshotNotFound ? 0 : config.fetchErrorBackoffMs)
            return
        }
        let have = Int64(download.bytes.count)
        guard response.position == have else {
            return reject(from, .positionOutOfRange, "snapshot chunk at \(response.position), expected \(have)")
        }
        let end = response.position + Int64(response.bytes.count)
        guard response.size >= 0, download.size == nil || download.size == response.size, end <= response.size,
            !response.bytes.isEmpty || end == response.size
        else {
            return reject(from, .corruptMessage, "snapshot chunk [\(response.position), \(end)) of a \(response.size)-byte snapshot")
        }
        download.size = response.size
        download.bytes += response.bytes
        lastFetchSuccessMs = nowMs
        hasFetchedFromLeader = true
        nextFetchMs = nowMs
        if end == response.size {
            snapshotDownload = nil
            install(RaftSnapshot(id: download.id, bytes: download.bytes))
        } else {
            snapshotDownload = download
        }
    }

    /// Replaces the whole log with a downloaded snapshot (Kafka's `truncateFullyAndStartAt`). Committed
    /// entries not yet handed out below its end are dropped: the snapshot already contains them.
    private mutating func install(_ snapshot: RaftSnapshot) {
        let id = snapshot.id
        log = RaftLog(snapshotId: id, entries: [])
        self.snapshot = snapshot
        ready.logOperations.append(.installSnapshot(snapshot))
        ready.committed.removeAll { $0.offset < id.offset }
        truncations += 1
        flushedEndOffset = log.endOffset
        highWatermark = max(highWatermark, id.offset)
        appliedOffset = id.offset
    }
}
