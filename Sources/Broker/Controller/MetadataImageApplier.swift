import Foundation
import Logging
import MartletProtocol
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
                replay(bytes, at: entry.offset) { record throws(MetadataImageError) in try current.apply(record, at: entry.offset) }
            }
            return current.lastAppliedOffset == before ? nil : current
        }
        if let changed { onChange?(changed) }
    }

    /// A snapshot holds records without their offsets; each counts as written at the snapshot's last
    /// contained offset (`MetadataImage.apply(snapshotRecord:)`), and entries continue at its end.
    public func load(_ snapshot: RaftSnapshot) {
        let records: [[UInt8]]
        do {
            records = try RaftRecords.snapshotContents(snapshot.bytes).records
        } catch {
            logger.error("cannot read snapshot \(SnapshotFiles.fileName(snapshot.id)), keeping the current image: \(error)")
            return
        }
        var rebuilt = MetadataImage(snapshotEndOffset: snapshot.id.offset)
        for bytes in records {
            replay(bytes, at: snapshot.id.offset - 1) { record throws(MetadataImageError) in try rebuilt.apply(snapshotRecord: record) }
        }
        lock.withLock { current = rebuilt }
        onChange?(rebuilt)
        logger.info("metadata image rebuilt from snapshot \(SnapshotFiles.fileName(snapshot.id)): \(records.count) records")
    }

    /// The committed image, to be written as its snapshot records (`MetadataImage.snapshotRecords`),
    /// framed. The image is a value, so encoding it later sees it as it is now.
    public func captureSnapshot() -> @Sendable () throws -> [[UInt8]] {
        let captured = image
        return { try captured.snapshotRecords.map { record throws(KafkaWireError) in try record.encodedBytes() } }
    }

    private func replay(_ bytes: [UInt8], at offset: Int64, _ apply: (MetadataRecord) throws(MetadataImageError) -> Void) {
        let record: MetadataRecord
        do {
            record = try MetadataRecord(framed: ByteBuffer(bytes: bytes))
        } catch {
            logger.error("skipping the metadata record at offset \(offset): \(error)")
            return
        }
        do {
            try apply(record)
        } catch {
            logger.error("skipping \(record) at offset \(offset): it does not fit the image: \(error)")
        }
    }
}
