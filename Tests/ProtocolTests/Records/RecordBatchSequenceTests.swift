import NIOCore
import Testing

@testable import MartletProtocol

@Suite("Record batch sequence")
struct RecordBatchSequenceTests {
    static func batch(_ index: Int, codec: CompressionCodec = .none) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: codec, baseOffset: Int64(index * 10))
        for record in 0...index {
            builder.append(timestamp: Int64(record), key: nil, value: ByteBuffer(string: "batch \(index) record \(record)"))
        }
        return try builder.finish()
    }

    @Test("yields each batch as a slice and stops at a partial trailing batch")
    func partialTrailingBatch() throws {
        var records = ByteBuffer()
        for index in 0..<3 {
            var batch = try Self.batch(index, codec: index == 1 ? .gzip : .none)
            records.writeBuffer(&batch)
        }
        let fourth = try Self.batch(3)
        let complete = records.readableBytes
        for partialLength in [0, 5, 12, 30, fourth.readableBytes - 1] {
            var withPartial = records
            withPartial.writeImmutableBuffer(fourth.getSlice(at: 0, length: partialLength)!)
            var iterator = RecordBatchSequence(withPartial).makeIterator()
            var offsets: [Int64] = []
            var total = 0
            while let batch = iterator.next() {
                let header = try RecordBatch.validate(batch)
                offsets.append(header.baseOffset)
                total += batch.readableBytes
            }
            #expect(offsets == [0, 10, 20])
            #expect(total == complete)
            #expect(iterator.remaining.readableBytes == partialLength)
            #expect(iterator.stoppedEarly == (partialLength > 0))
            #expect(iterator.error == nil)
        }
        // for-in and a complete buffer.
        var count = 0
        for batch in RecordBatchSequence(records) {
            count += try RecordBatch.decode(batch, maximumUncompressedSize: 1 << 20).records.count
        }
        #expect(count == 1 + 2 + 3)
        #expect(Array(RecordBatchSequence(ByteBuffer())).isEmpty)
    }

    @Test("a corrupt length ends the sequence with an error")
    func corruptLength() throws {
        var records = try Self.batch(0)
        records.writeInteger(Int64(0))
        records.writeInteger(Int32(-5))
        records.writeRepeatingByte(0, count: 100)
        var iterator = RecordBatchSequence(records).makeIterator()
        #expect(iterator.next() != nil)
        #expect(iterator.next() == nil)
        #expect(iterator.error == .invalidBatchLength(-5))
        #expect(iterator.remaining.readableBytes == 112)
        var throwing = RecordBatchSequence(records).makeIterator()
        _ = try throwing.nextBatch()
        #expect(throws: RecordBatchError.invalidBatchLength(-5)) { try throwing.nextBatch() }
    }

    @Test("decode(from:) walks a buffer batch by batch")
    func decodeFromStream() throws {
        var records = ByteBuffer()
        for index in 0..<4 {
            var batch = try Self.batch(index, codec: CompressionCodec.allCases[index + 1])
            records.writeBuffer(&batch)
        }
        var offsets: [Int64] = []
        while records.readableBytes > 0 {
            let batch = try RecordBatch.decode(from: &records, maximumUncompressedSize: 1 << 20)
            offsets.append(contentsOf: batch.records.map { batch.offset(of: $0) })
        }
        #expect(offsets == [0, 10, 11, 20, 21, 22, 30, 31, 32, 33])
    }
}
