import Foundation
import MartletReplication
import Testing

@testable import MartletBroker

/// `__cluster_metadata-0` across restarts once snapshots cut its prefix: what the core starts from is the
/// newest snapshot and the entries after it, whether the log prefix was deleted under a snapshot taken
/// here or the whole log was replaced by one downloaded from the leader.
@Suite("Metadata log with snapshots")
struct MetadataLogTests {
    static func entries(_ range: Range<Int64>, epoch: Int32) -> [LogEntry] {
        range.map { LogEntry(offset: $0, epoch: epoch, payload: .data(Array("record-\($0)".utf8))) }
    }

    static func snapshot(_ offset: Int64, epoch: Int32) -> RaftSnapshot {
        let id = OffsetAndEpoch(offset: offset, epoch: epoch)
        return RaftSnapshot(id: id, bytes: RaftRecords.snapshotBytes(id: id, records: [[1, 2, 3]], lastContainedLogTimestamp: 0, timestamp: 0))
    }

    static func withDirectory(_ body: (String) throws -> Void) throws {
        let root = "/tmp/martlet-metadata-log-tests-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try body(root)
    }

    static func open(_ root: String) throws -> MetadataLog { try MetadataLog(metadataLogDirectory: root, voters: [1, 2, 3]) }

    @Test("a snapshot taken here: the prefix below it is gone after a restart, older snapshots too")
    func prefixDeleted() throws {
        try Self.withDirectory { root in
            let log = try Self.open(root)
            _ = try log.load()
            try log.apply(.append(Self.entries(0..<10, epoch: 1) + Self.entries(10..<15, epoch: 2)), now: 0)
            try log.flush()
            try log.snapshots.write(Self.snapshot(5, epoch: 1))
            try log.snapshots.write(Self.snapshot(12, epoch: 2))
            try log.apply(.deletePrefix(before: 12), now: 0)
            #expect(try log.snapshots.list() == [OffsetAndEpoch(offset: 12, epoch: 2)])
            try log.close()

            let reopened = try Self.open(root)
            let state = try reopened.load()
            #expect(state.snapshot == Self.snapshot(12, epoch: 2))
            #expect(state.entries == Self.entries(12..<15, epoch: 2))
            try reopened.apply(.append(Self.entries(15..<17, epoch: 2)), now: 0)
            try reopened.close()
            #expect(try Self.open(root).load().entries == Self.entries(12..<17, epoch: 2))
        }
    }

    @Test("a snapshot installed from the leader: the log starts at its end, and a restart continues there")
    func installed() throws {
        try Self.withDirectory { root in
            let log = try Self.open(root)
            _ = try log.load()
            try log.apply(.append(Self.entries(0..<3, epoch: 1)), now: 0)
            try log.apply(.installSnapshot(Self.snapshot(40, epoch: 3)), now: 0)
            try log.apply(.append(Self.entries(40..<42, epoch: 3)), now: 0)
            try log.flush()
            try log.close()

            let state = try Self.open(root).load()
            #expect(state.snapshot?.id == OffsetAndEpoch(offset: 40, epoch: 3))
            #expect(state.entries == Self.entries(40..<42, epoch: 3))
        }
    }
}
