import Foundation
import Logging
import MartletReplication

/// Where a controller's committed metadata goes (`MetadataImageApplier`). The driver calls it
/// synchronously on its actor, in log order, right after the entries commit, so an implementation must be
/// quick; the driver relies on the applied state being current when the call returns (the active
/// controller starts from it).
public protocol MetadataApplier: Sendable {
    /// Entries below the high watermark, each once, in offset order. After a restart they come again
    /// from the snapshot (or the log start), as the image is rebuilt in memory.
    func apply(_ entries: [LogEntry])
    /// The state is replaced by `snapshot` (loaded at start-up or downloaded from the leader); entries
    /// continue at its end offset.
    func load(_ snapshot: RaftSnapshot)
    /// Captures the state as applied so far for a snapshot; the returned closure encodes it as the
    /// snapshot's records, which `load` takes back to that state. The driver captures between two `apply`s,
    /// so the capture covers exactly the entries applied, and runs the closure off its actor.
    func captureSnapshot() -> @Sendable () throws -> [[UInt8]]
    /// The brokers registered in the applied metadata: the observers the leader lets fetch the log.
    var registeredBrokers: Set<ReplicaID> { get }
}

extension MetadataApplier {
    public var registeredBrokers: Set<ReplicaID> { [] }
}

/// An applier for Raft-level tests whose entries are not metadata records: counts what committed and
/// remembers the last applied offset and the raw records.
public final class CommittedEntryCounter: MetadataApplier, @unchecked Sendable {
    // Guarded by `lock`: written by the driver's actor, read by anyone.
    private let lock = NSLock()
    private var appliedCount = 0
    private var lastOffset: Int64 = -1
    private var records: [[UInt8]] = []
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// How many entries were applied since start-up.
    public var count: Int { lock.withLock { appliedCount } }
    /// The offset of the last applied entry (or the snapshot's last offset); -1 if none.
    public var lastAppliedOffset: Int64 { lock.withLock { lastOffset } }
    /// The application records applied, in order (the controllers' proposals; leader changes and no-ops
    /// are left out).
    public var appliedRecords: [[UInt8]] { lock.withLock { records } }

    public func apply(_ entries: [LogEntry]) {
        guard let last = entries.last else { return }
        lock.withLock {
            appliedCount += entries.count
            lastOffset = last.offset
            for entry in entries { if case .data(let bytes) = entry.payload { records.append(bytes) } }
        }
        logger.debug("applied \(entries.count) committed entries up to offset \(last.offset)")
    }

    /// The records applied so far, which `load` takes back as they are.
    public func captureSnapshot() -> @Sendable () throws -> [[UInt8]] {
        let records = appliedRecords
        return { records }
    }

    public func load(_ snapshot: RaftSnapshot) {
        let contents = try? RaftRecords.snapshotContents(snapshot.bytes)
        lock.withLock {
            lastOffset = snapshot.id.offset - 1
            records = contents?.records ?? []
        }
        logger.info("loaded snapshot \(SnapshotFiles.fileName(snapshot.id))")
    }
}
