import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

/// Log entries as KRaft record batches, and snapshots as Kafka's snapshot files.
@Suite("Raft records")
struct RaftRecordsTests {
    static let change = LeaderChange(leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3])
    static let entries: [LogEntry] = [
        LogEntry(offset: 40, epoch: 4, payload: .data([9])),
        LogEntry(offset: 41, epoch: 5, payload: .leaderChange(change)),
        LogEntry(offset: 42, epoch: 5, payload: .data([1, 2, 3])),
        LogEntry(offset: 43, epoch: 5, payload: .noOp),
        LogEntry(offset: 44, epoch: 5, payload: .data([4, 5])),
        LogEntry(offset: 45, epoch: 6, payload: .data([6])),
    ]

    static func batches(_ bytes: ByteBuffer) throws -> [RecordBatch] {
        var buffer = bytes
        var batches: [RecordBatch] = []
        while buffer.readableBytes > 0 {
            batches.append(try RecordBatch.decode(from: &buffer, maximumUncompressedSize: 1 << 20))
        }
        return batches
    }

    @Test("entries round-trip; batches start at the entry offset in the entry epoch, one per epoch run")
    func roundTrip() throws {
        let bytes = RaftRecords.batches(Self.entries, timestamp: 1_700_000_000_000)
        #expect(try RaftRecords.entries(from: bytes) == Self.entries)
        let batches = try Self.batches(bytes)
        #expect(batches.map(\.header.baseOffset) == [40, 41, 42, 45])
        #expect(batches.map(\.header.partitionLeaderEpoch) == [4, 5, 5, 6])
        #expect(batches.map(\.header.attributes.isControl) == [false, true, false, false])
        #expect(batches.map(\.records.count) == [1, 1, 3, 1])
        #expect(batches[2].records.map { $0.key == nil } == [true, true, true])
    }

    @Test("the leader change is a LEADER_CHANGE control record holding a LeaderChangeMessage")
    func leaderChange() throws {
        let bytes = RaftRecords.batches([LogEntry(offset: 0, epoch: 1, payload: .leaderChange(Self.change))], timestamp: 0)
        let batch = try #require(try Self.batches(bytes).first)
        #expect(try batch.controlRecordKey().type == .leaderChange)
        var value = try #require(batch.records[0].value)
        let message = try LeaderChangeMessage(from: &value, version: 0)
        #expect(message.version == 0)
        #expect(message.leaderId == 2)
        #expect(message.voters.map(\.voterId) == [1, 2, 3])
        #expect(message.grantingVoters.map(\.voterId) == [2, 3])
    }

    @Test("the no-op is a NoOpRecord metadata record framed as Kafka's MetadataRecordSerde frames it")
    func noOp() throws {
        #expect(RaftRecords.noOpRecordValue == [1, 20, 0, 0])
        let batch = try #require(try Self.batches(RaftRecords.batches([LogEntry(offset: 3, epoch: 1, payload: .noOp)], timestamp: 0)).first)
        #expect(!batch.header.attributes.isControl)
        #expect(batch.records[0].value.map { Array($0.readableBytesView) } == RaftRecords.noOpRecordValue)
    }

    @Test("a bad CRC or a truncated batch is refused; a cut last batch is left for the next fetch only after a whole one")
    func badBatches() throws {
        let bytes = RaftRecords.batches(Self.entries, timestamp: 0)
        var corrupt = bytes
        corrupt.setInteger(UInt8(0x55), at: corrupt.readerIndex + RecordBatchHeader.Offset.baseTimestamp)
        let error = #expect(throws: RaftWireError.self) { try RaftRecords.entries(from: corrupt) }
        guard case .invalidRecords(.crcMismatch) = error else {
            Issue.record("expected a CRC mismatch, got \(String(describing: error))")
            return
        }
        let cut = bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes - 5)!
        #expect(throws: RaftWireError.self) { try RaftRecords.entries(from: cut) }
        #expect(try RaftRecords.entries(from: cut, trailing: .ignoreIfPartial) == Array(Self.entries.prefix(5)))
        let firstCut = bytes.getSlice(at: bytes.readerIndex, length: 30)!
        #expect(throws: RaftWireError.self) { try RaftRecords.entries(from: firstCut, trailing: .ignoreIfPartial) }
    }

    @Test("control records the core has no entry for are refused")
    func unsupportedControl() throws {
        let marker = RecordBatch.endTransactionMarker(type: .commit, coordinatorEpoch: 1, producerId: 5, producerEpoch: 0, timestamp: 0)
        #expect(throws: RaftWireError.unsupportedControlRecord(.commit)) { try RaftRecords.entries(from: marker) }
        let snapshot = RaftRecords.snapshotBytes(id: OffsetAndEpoch(offset: 5, epoch: 2), records: [], lastContainedLogTimestamp: 0, timestamp: 0)
        #expect(throws: RaftWireError.unsupportedControlRecord(.snapshotHeader)) { try RaftRecords.entries(from: ByteBuffer(bytes: snapshot)) }
    }

    @Test("a snapshot is a header batch, its records in batches, and a footer batch, in the snapshot's epoch")
    func snapshot() throws {
        let records: [[UInt8]] = [[1], [2, 2], Array(repeating: 3, count: 100)]
        let bytes = RaftRecords.snapshotBytes(
            id: OffsetAndEpoch(offset: 50, epoch: 4), records: records, lastContainedLogTimestamp: 1_700_000_000_123, timestamp: 1_700_000_000_456)
        let contents = try RaftRecords.snapshotContents(bytes)
        #expect(contents.records == records)
        #expect(contents.header.lastContainedLogTimestamp == 1_700_000_000_123)
        let batches = try Self.batches(ByteBuffer(bytes: bytes))
        #expect(try batches.first?.controlRecordKey().type == .snapshotHeader)
        #expect(try batches.last?.controlRecordKey().type == .snapshotFooter)
        #expect(batches.map(\.header.baseOffset) == [0, 1, 4])
        #expect(batches.allSatisfy { $0.header.partitionLeaderEpoch == 4 })
        #expect(try RaftRecords.snapshotContents(RaftRecords.snapshotBytes(
            id: OffsetAndEpoch(offset: 1, epoch: 0), records: [], lastContainedLogTimestamp: 0, timestamp: 0)).records == [])
    }

    @Test("a snapshot without its header or footer, or cut short, is refused")
    func badSnapshots() throws {
        let bytes = RaftRecords.snapshotBytes(id: OffsetAndEpoch(offset: 50, epoch: 4), records: [[1], [2]], lastContainedLogTimestamp: 0, timestamp: 0)
        let batches = RaftRecords.batches([LogEntry(offset: 0, epoch: 4, payload: .data([1]))], timestamp: 0)
        #expect(throws: RaftWireError.self) { try RaftRecords.snapshotContents(Array(batches.readableBytesView)) }
        let headerSize = try Self.batches(ByteBuffer(bytes: bytes))[0].encoded().readableBytes
        #expect(throws: RaftWireError.self) { try RaftRecords.snapshotContents(Array(bytes.dropFirst(headerSize))) }
        #expect(throws: RaftWireError.self) { try RaftRecords.snapshotContents(Array(bytes.dropLast(3))) }
        let footerless = Array(bytes.prefix(bytes.count - (try Self.batches(ByteBuffer(bytes: bytes)).last!.encoded().readableBytes)))
        #expect(throws: RaftWireError.invalidField("snapshot without a footer")) { try RaftRecords.snapshotContents(footerless) }
    }
}
