import Foundation
import MartletReplication

/// The KRaft snapshots of `__cluster_metadata-0` as Kafka names them (`Snapshots.java`):
/// `<20-digit end offset>-<10-digit epoch>.checkpoint`, written beside the final name and renamed once
/// complete and fsynced, so a crash never leaves a partial snapshot under the final name.
struct SnapshotFiles {
    static let suffix = ".checkpoint"

    let directory: String

    static func fileName(_ id: OffsetAndEpoch) -> String {
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(id.offset, 20) + "-" + padded(Int64(id.epoch), 10) + suffix
    }

    /// The snapshot id a file name stands for, nil for any other file.
    static func id(of name: String) -> OffsetAndEpoch? {
        guard name.hasSuffix(suffix) else { return nil }
        let parts = name.dropLast(suffix.count).split(separator: "-")
        guard parts.count == 2, parts[0].count == 20, parts[1].count == 10, let offset = Int64(parts[0]), let epoch = Int32(parts[1]) else {
            return nil
        }
        return OffsetAndEpoch(offset: offset, epoch: epoch)
    }

    func path(_ id: OffsetAndEpoch) -> String { directory + "/" + Self.fileName(id) }

    /// Every snapshot, oldest first.
    func list() throws -> [OffsetAndEpoch] {
        try FileManager.default.contentsOfDirectory(atPath: directory).compactMap(Self.id)
            .sorted { ($0.offset, $0.epoch) < ($1.offset, $1.epoch) }
    }

    /// The newest snapshot whose contents are a valid KRaft snapshot (header, batches, footer); newer
    /// files that fail to read are skipped, as a torn copy must not stop a node that has an older one.
    func loadLatest() throws -> RaftSnapshot? {
        for id in try list().reversed() {
            guard let data = FileManager.default.contents(atPath: path(id)) else { continue }
            let bytes = [UInt8](data)
            guard (try? RaftRecords.snapshotContents(bytes)) != nil else { continue }
            return RaftSnapshot(id: id, bytes: bytes)
        }
        return nil
    }

    /// Writes `snapshot` durably under its final name.
    func write(_ snapshot: RaftSnapshot) throws {
        try AtomicFile.write(Data(snapshot.bytes), to: path(snapshot.id))
    }

    /// Removes every snapshot older than `id`.
    func deleteBefore(_ id: OffsetAndEpoch) throws {
        for old in try list() where (old.offset, old.epoch) < (id.offset, id.epoch) {
            try FileManager.default.removeItem(atPath: path(old))
        }
    }
}
