import Foundation
import Logging
import MartletReplication
import NIOCore

/// The committed metadata image of one controller: every committed entry's record is decoded with KRaft's
/// framing and applied in log order, and a snapshot the core installs replaces the image. The active
/// controller starts its `ControllerState` from this image, so it must hold exactly what committed.
///
/// Replay is synchronous under a lock rather than handed to a queue: the driver reads the image the
/// moment its leader's epoch commits, and a metadata record is applied in microseconds.
public final class MetadataImageApplier: MetadataApplier, @unchecked Sendable {
    // Guarded by `lock`: written by the driver's actor, read by anyone.
    private let lock = NSLock()
    private var current = MetadataImage()
    private let logger: Logger
    /// Told every new image, after the lock is released (a broker reconciles its partitions with it).
    private let onChange: (@Sendable (MetadataImage) -> Void)?

    public init(logger: Logger, onChange: (@Sendable (MetadataImage) -> Void)? = nil) {
        self.logger = logger
        self.onChange = onChange
    }

    /// The image as of the last committed entry applied.
    public var image: MetadataImage { lock.withLock { current } }

    public var registeredBrokers: Set<ReplicaID> { Set(image.brokers.keys) }

    /// Leader changes and no-ops carry no metadata and are passed over. A record that does not decode or
    /// does not fit the image is logged and skipped: it is committed and every node skips it alike, so
    /// stopping would only take the quorum down with it.
    public func apply(_ entries: [LogEntry]) {
        let changed = lock.withLock { () -> MetadataImage? in
            let before = current.lastAppliedOffset
            for entry in entries {
                guard case .data(let bytes) = entry.payload else { continue }
                replay(bytes, at: entry.offset, into: &current)
            }
            return current.lastAppliedOffset == before ? nil : current
        }
        if let changed { onChange?(changed) }
    }

    /// A snapshot holds records without their offsets; they are replayed at the offsets just below the
    /// snapshot's end, so the image continues at the next entry and brokers registered in it count as
    /// registered before that end.
    public func load(_ snapshot: RaftSnapshot) {
        let records: [[UInt8]]
        do {
            records = try RaftRecords.snapshotContents(snapshot.bytes).records
        } catch {
            logger.error("cannot read snapshot \(SnapshotFiles.fileName(snapshot.id)), keeping the current image: \(error)")
            return
        }
        var rebuilt = MetadataImage()
        let first = max(0, snapshot.id.offset - Int64(records.count))
        for (index, bytes) in records.enumerated() { replay(bytes, at: first + Int64(index), into: &rebuilt) }
        lock.withLock { current = rebuilt }
        onChange?(rebuilt)
        logger.info("metadata image rebuilt from snapshot \(SnapshotFiles.fileName(snapshot.id)): \(records.count) records")
    }

    private func replay(_ bytes: [UInt8], at offset: Int64, into image: inout MetadataImage) {
        let record: MetadataRecord
        do {
            record = try MetadataRecord(framed: ByteBuffer(bytes: bytes))
        } catch {
            logger.error("skipping the metadata record at offset \(offset): \(error)")
            return
        }
        do {
            try image.apply(record, at: offset)
        } catch {
            logger.error("skipping \(record) at offset \(offset): it does not fit the image: \(error)")
        }
    }
}
