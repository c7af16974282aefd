import MartletProtocol
import MartletReplication
import NIOCore

/// `__cluster_metadata-0` on disk: the Raft core's log as KRaft record batches in the ordinary segmented
/// partition log (so it has Kafka's layout, CRC validation and torn-tail recovery), plus the quorum-state
/// file and the snapshots beside it. It replays what survived into the core's start-up state and carries
/// out the core's `LogOperation`s.
///
/// Not thread-safe: owned by one `RaftDriver`.
final class MetadataLog {
    static let directoryName = "__cluster_metadata-0"

    let directory: String
    let quorumState: QuorumStateStore
    let snapshots: SnapshotFiles
    private let log: PartitionLog

    /// Opens (or creates) `<metadataLogDirectory>/__cluster_metadata-0`.
    init(metadataLogDirectory: String, voters: [ReplicaID]) throws {
        directory = metadataLogDirectory + "/" + Self.directoryName
        quorumState = QuorumStateStore(directory: directory, voters: voters)
        snapshots = SnapshotFiles(directory: directory)
        try FileIO.makeDirectories(directory)
        let latest = try snapshots.list().last
        log = try PartitionLog.open(
            directory: directory, topic: RaftWireContext.metadataTopic, partition: RaftWireContext.metadataPartition,
            config: LogConfig(retentionMs: -1, messageMaxBytes: Int(Int32.max)), logStartOffset: latest?.offset ?? 0,
            topicId: RaftWireContext.metadataTopicId)
    }

    /// What the core starts from: the quorum state, the newest readable snapshot and the log after it.
    /// Entries that do not continue the snapshot, or a tail that breaks offset or epoch order, are cut
    /// from the disk log too, so the core and the disk agree from the start.
    func load() throws -> RaftPersistentState {
        let state = try quorumState.load()
        let snapshot = try snapshots.loadLatest()
        let start = snapshot?.id.offset ?? 0
        if log.logEndOffset < start || log.logStartOffset > start {
            try log.truncateFully(startingAt: start)
        }
        let bytes = try log.read(from: start, maxBytes: .max).readBytes()
        let stored: [LogEntry]
        do {
            stored = try RaftRecords.entries(from: bytes)
        } catch {
            throw ControllerError.corruptLog("\(error)")
        }
        var entries: [LogEntry] = []
        var lastEpoch = snapshot?.id.epoch ?? 0
        for entry in stored where entry.offset >= start {
            guard entry.offset == start + Int64(entries.count), entry.epoch >= lastEpoch else { break }
            entries.append(entry)
            lastEpoch = entry.epoch
        }
        try log.truncate(to: start + Int64(entries.count))
        return RaftPersistentState(quorumState: state, snapshot: snapshot, entries: entries)
    }

    var logEndOffset: Int64 { log.logEndOffset }

    /// Carries out one operation of a ready. Appends are in the page cache until `flush`.
    func apply(_ operation: LogOperation, now: Int64) throws {
        switch operation {
        case .truncate(let offset):
            try log.truncate(to: offset)
        case .append(let entries):
            try log.appendAsFollower(RaftRecords.batches(entries, timestamp: now), now: now)
        case .installSnapshot(let snapshot):
            try snapshots.write(snapshot)
            try log.truncateFully(startingAt: snapshot.id.offset)
            try snapshots.deleteBefore(snapshot.id)
        case .deletePrefix(let offset):
            try log.deleteRecords(before: min(offset, log.logEndOffset))
            if let latest = try snapshots.list().last { try snapshots.deleteBefore(latest) }
        }
    }

    /// fsyncs everything appended so far.
    func flush() throws { try log.flush() }

    func close() throws { try log.close() }
}
