import Foundation
import MartletReplication

/// Metadata snapshots (KIP-630): when the `SnapshotSchedule` says so, the driver captures the committed
/// state, writes it as a `.checkpoint` off its actor, and hands it to the core, which drops the log below
/// it and serves it to followers that fall behind the new log start.
extension RaftDriver {
    /// On the driver's timer: counts what committed since the last look and starts a snapshot if due.
    func snapshotIfDue(now: Int64) {
        if node.logStartOffset > snapshotSchedule.countedEnd {
            // A snapshot from the leader replaced everything counted so far.
            snapshotSchedule.restart(at: node.logStartOffset, nowMs: now)
        }
        while snapshotSchedule.countedEnd < node.appliedOffset, let entry = node.entry(at: snapshotSchedule.countedEnd) {
            snapshotSchedule.count(entry)
        }
        guard snapshotSchedule.isDue(nowMs: now) else { return }
        snapshotSchedule.started(nowMs: now)
        startSnapshot(now: now)
    }

    /// Captures the applier's state at the applied offset (the snapshot id is that end offset and the
    /// epoch of the last entry it covers, as in Kafka) and writes it on another task.
    ///
    /// Only the capture happens on the actor, where the applier holds exactly the entries below the
    /// applied offset: encoding an image is linear in its size (a debug build takes most of a second for
    /// 1,000 topics of 10 partitions), which must not hold up fetches, votes and commits. The header's
    /// last contained timestamp is the capture time: entries' own timestamps are not kept in memory, and
    /// with the leader's no-ops committing every idle interval the last entry is hardly older.
    private func startSnapshot(now: Int64) {
        let end = node.appliedOffset
        guard end > node.logStartOffset, let last = node.entry(at: end - 1) else { return snapshotSchedule.finished() }
        let id = OffsetAndEpoch(offset: end, epoch: last.epoch)
        let records = applier.captureSnapshot()
        let files = storage.snapshots
        Task.detached { [weak self] in
            let started = DispatchTime.now().uptimeNanoseconds
            let written = Result { () throws -> RaftSnapshot in
                let snapshot = RaftSnapshot(
                    id: id, bytes: RaftRecords.snapshotBytes(id: id, records: try records(), lastContainedLogTimestamp: now, timestamp: now))
                try files.write(snapshot)
                return snapshot
            }
            await self?.snapshotWritten(id, written, micros: (DispatchTime.now().uptimeNanoseconds - started) / 1000)
        }
    }

    /// Back on the actor: the core takes the snapshot unless one installed from the leader meanwhile
    /// already covers it, in which case the older file goes.
    private func snapshotWritten(_ id: OffsetAndEpoch, _ written: Result<RaftSnapshot, any Error>, micros: UInt64) {
        snapshotSchedule.finished()
        guard !stopped else { return }
        let snapshot: RaftSnapshot
        switch written {
        case .success(let value):
            snapshot = value
        case .failure(let error):
            logger.error("node \(nodeId): cannot write snapshot \(SnapshotFiles.fileName(id)): \(error)")
            return
        }
        let size = snapshot.bytes.count
        if node.snapshotCreated(snapshot) {
            logger.info("node \(nodeId): wrote snapshot \(SnapshotFiles.fileName(id)): \(size) bytes in \(micros) µs")
            process(answering: nil)
            return
        }
        let latest = node.latestSnapshotId
        if latest != id { try? FileManager.default.removeItem(atPath: storage.snapshots.path(id)) }
        let covering = latest.map(SnapshotFiles.fileName) ?? "none"
        logger.info("node \(nodeId): snapshot \(SnapshotFiles.fileName(id)) dropped, the leader's \(covering) covers it")
    }

    /// The latest snapshot, written here or installed from the leader; nil before the first.
    public var latestSnapshotId: OffsetAndEpoch? { node.latestSnapshotId }

    /// The first offset still in the log: the latest snapshot's end, or 0.
    public var logStartOffset: Int64 { node.logStartOffset }
}
