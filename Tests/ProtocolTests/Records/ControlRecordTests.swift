import NIOCore
import Testing

@testable import MartletProtocol

@Suite("Control records")
struct ControlRecordTests {
    @Test("transaction marker batch round trip", arguments: [ControlRecordType.commit, .abort])
    func endTransactionMarker(type: ControlRecordType) throws {
        let bytes = RecordBatch.endTransactionMarker(
            type: type, coordinatorEpoch: 17, producerId: 4000, producerEpoch: 3, timestamp: 1_700_000_000_000,
            baseOffset: 55, partitionLeaderEpoch: 2)
        let header = try RecordBatch.validate(bytes)
        #expect(header.attributes.isControl && header.attributes.isTransactional)
        #expect(header.attributes.compression == CompressionCodec.none)
        #expect(header.recordsCount == 1 && header.baseOffset == 55 && header.producerId == 4000 && header.producerEpoch == 3)
        #expect(header.baseSequence == -1)
        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: 1024)
        let key = try batch.controlRecordKey()
        #expect(key == ControlRecordKey(version: 0, type: type))
        let marker = try EndTransactionMarker(from: batch.records[0].value!)
        #expect(marker == EndTransactionMarker(version: 0, coordinatorEpoch: 17))
        // Wire form of key and value.
        #expect(batch.records[0].key == ByteBuffer(bytes: [0, 0, 0, UInt8(type.rawValue)]))
        #expect(batch.records[0].value == ByteBuffer(bytes: [0, 0, 0, 0, 0, 17]))
    }

    @Test("KRaft control batch round trip through RecordBatch.encode")
    func kraftControlBatch() throws {
        for type in [ControlRecordType.leaderChange, .snapshotHeader, .snapshotFooter, .kraftVersion, .kraftVoters] {
            let batch = RecordBatch(
                header: RecordBatchHeader(
                    attributes: RecordBatchAttributes(isControl: true), baseTimestamp: 99),
                records: [Record(key: ControlRecordKey(type: type).encoded(), value: ByteBuffer(bytes: [0, 0, 1, 2, 3]))])
            let decoded = try RecordBatch.decode(try batch.encoded(), maximumUncompressedSize: 1024)
            #expect(try decoded.controlRecordKey().type == type)
            #expect(decoded.records == batch.records)
        }
        #expect(ControlRecordType(rawValue: 42).description == "UNKNOWN(42)")
        #expect(ControlRecordType.kraftVoters.description == "KRAFT_VOTERS")
    }

    @Test("malformed control keys and markers")
    func malformed() throws {
        #expect(throws: RecordBatchError.self) { try ControlRecordKey(from: ByteBuffer(bytes: [0, 0, 1])) }
        #expect(throws: RecordBatchError.self) { try ControlRecordKey(from: ByteBuffer(bytes: [0xFF, 0xFF, 0, 1])) }
        #expect(throws: RecordBatchError.self) { try EndTransactionMarker(from: ByteBuffer(bytes: [0, 0, 0, 0, 1])) }
        // A newer marker version with more fields still parses.
        #expect(try EndTransactionMarker(from: ByteBuffer(bytes: [0, 1, 0, 0, 0, 9, 0xAA, 0xBB])).coordinatorEpoch == 9)
        let plain = RecordBatch(header: RecordBatchHeader(), records: [])
        #expect(throws: RecordBatchError.invalidControlRecord("not a control batch")) { try plain.controlRecordKey() }
    }
}
