import NIOCore
import Testing

@testable import MartletProtocol

@Suite("Record batches")
struct RecordBatchTests {
    static let maximum = 64 * 1024 * 1024

    /// Keys, values, a null key, a null value (tombstone), headers with null and non-null values.
    static func sampleInput() -> [(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader])] {
        [
            (1_700_000_000_000, ByteBuffer(string: "key-0"), ByteBuffer(string: "value-0"), []),
            (1_700_000_000_005, nil, ByteBuffer(string: "value without key"), []),
            (1_699_999_999_990, ByteBuffer(string: "deleted"), nil, []),
            (1_700_000_000_020, ByteBuffer(string: "k"), ByteBuffer(string: "v"), [
                RecordHeader(key: "trace-id", value: ByteBuffer(string: "abc123")),
                RecordHeader(key: "empty", value: ByteBuffer()),
                RecordHeader(key: "null", value: nil),
                RecordHeader(key: "ünïcödé", value: ByteBuffer(bytes: [0, 1, 2, 255])),
            ]),
            (1_700_000_000_010, ByteBuffer(), RecordsTestData.compressible(100_000), []),
        ]
    }

    static func build(_ codec: CompressionCodec, producerId: Int64 = -1, baseSequence: Int32 = -1) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(
            compression: codec, partitionLeaderEpoch: 3, producerId: producerId, producerEpoch: producerId >= 0 ? 7 : -1,
            baseSequence: baseSequence)
        for record in sampleInput() {
            builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
        }
        #expect(builder.recordsCount == 5)
        return try builder.finish()
    }

    @Test("builder -> decode for every codec", arguments: CompressionCodec.allCases)
    func builderRoundTrip(codec: CompressionCodec) throws {
        let bytes = try Self.build(codec, producerId: 1234, baseSequence: 40)
        let header = try RecordBatch.validate(bytes)
        #expect(header.batchSize == bytes.readableBytes)
        #expect(header.attributes.compression == codec)
        #expect(header.attributes.timestampType == .createTime)
        #expect(!header.attributes.isTransactional && !header.attributes.isControl)
        #expect(header.recordsCount == 5 && header.lastOffsetDelta == 4)
        #expect(header.baseTimestamp == 1_700_000_000_000 && header.maxTimestamp == 1_700_000_000_020)
        #expect(header.producerId == 1234 && header.producerEpoch == 7 && header.baseSequence == 40 && header.lastSequence == 44)
        #expect(header.partitionLeaderEpoch == 3 && header.baseOffset == 0)
        if codec != .none { #expect(bytes.readableBytes < 50_000) }

        var stream = bytes
        let batch = try RecordBatch.decode(from: &stream, maximumUncompressedSize: Self.maximum)
        #expect(stream.readableBytes == 0)
        #expect(batch.header == header)
        #expect(batch.records.count == 5)
        for (index, (record, input)) in zip(batch.records, Self.sampleInput()).enumerated() {
            #expect(record.offsetDelta == Int32(index))
            #expect(batch.timestamp(of: record) == input.timestamp)
            #expect(batch.offset(of: record) == Int64(index))
            #expect(record.key == input.key)
            #expect(record.value == input.value)
            #expect(record.headers == input.headers)
            #expect(record.attributes == 0)
        }
    }

    @Test("RecordBatch.encode -> decode for every codec", arguments: CompressionCodec.allCases)
    func encodeRoundTrip(codec: CompressionCodec) throws {
        let records = Self.sampleInput().enumerated().map { index, input in
            Record(
                timestampDelta: input.timestamp - 1_700_000_000_000, offsetDelta: Int32(index) * 2,
                key: input.key, value: input.value, headers: input.headers)
        }
        let batch = RecordBatch(
            header: RecordBatchHeader(
                baseOffset: 1000, partitionLeaderEpoch: 9,
                attributes: RecordBatchAttributes(compression: codec, isTransactional: true),
                baseTimestamp: 1_700_000_000_000, producerId: 5, producerEpoch: 1, baseSequence: 0),
            records: records)
        var buffer = ByteBuffer(string: "junk before")
        buffer.moveReaderIndex(forwardBy: 11)
        let written = try batch.encode(into: &buffer)
        #expect(written.lastOffsetDelta == 8 && written.recordsCount == 5 && written.maxTimestamp == 1_700_000_000_020)
        #expect(written.batchSize == buffer.readableBytes)
        // Offset gaps (as after compaction) are fine when stored, not from a producer.
        #expect(throws: RecordBatchError.invalidOffsetRange(lastOffsetDelta: 8, recordsCount: 5)) {
            try RecordBatch.validate(buffer)
        }
        let decoded = try RecordBatch.decode(buffer, maximumUncompressedSize: Self.maximum)
        #expect(decoded.header == written)
        #expect(decoded.records == records)
        #expect(decoded.offset(of: decoded.records[4]) == 1008)
        #expect(try decoded.encoded() == buffer)
    }

    @Test("uncompressed keys and values are slices of the batch, not copies")
    func zeroCopy() throws {
        let bytes = try Self.build(.none)
        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: Self.maximum)
        bytes.withUnsafeReadableBytes { whole in
            let range = UInt(bitPattern: whole.baseAddress!)..<UInt(bitPattern: whole.baseAddress! + whole.count)
            for record in batch.records {
                if let value = record.value, value.readableBytes > 0 {
                    value.withUnsafeReadableBytes { #expect(range.contains(UInt(bitPattern: $0.baseAddress!))) }
                }
            }
        }
    }

    @Test("an empty value, a LogAppendTime batch and the empty batch")
    func specialBatches() throws {
        var builder = RecordBatchBuilder(logAppendTime: 42)
        builder.append(timestamp: 10, key: nil, value: ByteBuffer())
        let bytes = try builder.finish()
        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: 100)
        #expect(batch.header.attributes.timestampType == .logAppendTime && batch.header.maxTimestamp == 42)
        #expect(batch.timestamp(of: batch.records[0]) == 42)
        #expect(batch.records[0].value == ByteBuffer() && batch.records[0].key == nil)
        // The builder is reusable.
        #expect(builder.isEmpty)
        builder.append(timestamp: 11, key: nil, value: ByteBuffer(string: "again"))
        #expect(try RecordBatch.decode(try builder.finish(), maximumUncompressedSize: 100).records[0].value == ByteBuffer(string: "again"))
        // An empty batch is valid as stored, not from a producer.
        let empty = try builder.finish()
        #expect(empty.readableBytes == RecordBatchHeader.size)
        #expect(throws: RecordBatchError.invalidRecordsCount(0)) { try RecordBatch.validate(empty) }
        let header = try RecordBatch.validate(empty, mode: .stored)
        // LogAppendTime keeps its time even when empty.
        #expect(header.recordsCount == 0 && header.baseTimestamp == -1 && header.maxTimestamp == 42)
        var createTime = RecordBatchBuilder()
        let emptyCreateTime = try RecordBatch.validate(try createTime.finish(), mode: .stored)
        #expect(emptyCreateTime.maxTimestamp == -1 && emptyCreateTime.lastOffsetDelta == 0)
    }

    // MARK: - Errors

    /// Rewrites a header field and (optionally) fixes the CRC, so only the intended check fails.
    static func tamper(_ bytes: ByteBuffer, fixCRC: Bool = true, _ change: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var copy = ByteBuffer(bytes: Array(bytes.readableBytesView))
        change(&copy)
        if fixCRC { RecordBatch.updateCRC(in: &copy, batchAt: 0, batchSize: copy.readableBytes) }
        return copy
    }

    @Test("CRC corruption gives CORRUPT_MESSAGE", arguments: CompressionCodec.allCases)
    func crcCorruption(codec: CompressionCodec) throws {
        let bytes = try Self.build(codec)
        for position in [RecordBatchHeader.Offset.attributes, RecordBatchHeader.Offset.recordsCount, 70, bytes.readableBytes - 1] {
            let corrupt = Self.tamper(bytes, fixCRC: false) { $0.setInteger($0.getInteger(at: position, as: UInt8.self)! ^ 0x10, at: position) }
            let error = #expect(throws: RecordBatchError.self) { try RecordBatch.validate(corrupt) }
            guard case .crcMismatch(let stored, _)? = error else {
                Issue.record("expected a CRC mismatch, got \(String(describing: error))")
                continue
            }
            #expect(stored == (try RecordBatchHeader(from: bytes)).crc)
            #expect(error?.kafkaErrorCode == 2)
            #expect(throws: RecordBatchError.self) { try RecordBatch.decode(corrupt, maximumUncompressedSize: Self.maximum) }
        }
        // baseOffset and partitionLeaderEpoch are outside the CRC.
        var reassigned = bytes
        RecordBatch.assign(baseOffset: 1 << 40, partitionLeaderEpoch: 77, in: &reassigned)
        let header = try RecordBatch.validate(reassigned)
        #expect(header.baseOffset == 1 << 40 && header.partitionLeaderEpoch == 77 && header.lastOffset == (1 << 40) + 4)
    }

    @Test("truncated batches give CORRUPT_MESSAGE")
    func truncated() throws {
        let bytes = try Self.build(.lz4)
        for length in [0, 11, 16, 17, 60, 61, bytes.readableBytes - 1] {
            let cut = bytes.getSlice(at: 0, length: length)!
            let error = #expect(throws: RecordBatchError.self) { try RecordBatch.validate(cut) }
            guard case .truncated? = error else {
                Issue.record("\(length) bytes: expected truncated, got \(String(describing: error))")
                continue
            }
            #expect(error?.kafkaErrorCode == 2)
            var stream = cut
            #expect(throws: RecordBatchError.self) { try RecordBatch.decode(from: &stream, maximumUncompressedSize: Self.maximum) }
            #expect(stream.readableBytes == length)
        }
        // Extra bytes in a one-batch buffer.
        var longer = bytes
        longer.writeInteger(UInt8(0))
        #expect(throws: RecordBatchError.sizeMismatch(batchSize: bytes.readableBytes, bufferSize: bytes.readableBytes + 1)) {
            try RecordBatch.validate(longer)
        }
        // A batchLength below the header.
        let short = Self.tamper(bytes) { $0.setInteger(Int32(48), at: RecordBatchHeader.Offset.batchLength) }
        #expect(throws: RecordBatchError.invalidBatchLength(48)) { try RecordBatch.validate(short) }
        #expect(RecordBatchError.invalidBatchLength(48).kafkaErrorCode == 2)
    }

    @Test("wrong magic gives INVALID_RECORD")
    func wrongMagic() throws {
        let bytes = try Self.build(.none)
        for magic: Int8 in [0, 1, 3, -1] {
            let legacy = Self.tamper(bytes, fixCRC: false) { $0.setInteger(magic, at: RecordBatchHeader.Offset.magic) }
            #expect(throws: RecordBatchError.unsupportedMagic(magic)) { try RecordBatch.validate(legacy) }
            #expect(throws: RecordBatchError.unsupportedMagic(magic)) { try RecordBatch.decode(legacy, maximumUncompressedSize: 1 << 20) }
            #expect(RecordBatchError.unsupportedMagic(magic).kafkaErrorCode == 87)
        }
    }

    @Test("recordsCount mismatches give INVALID_RECORD", arguments: CompressionCodec.allCases)
    func recordsCountMismatch(codec: CompressionCodec) throws {
        let bytes = try Self.build(codec)
        let more = Self.tamper(bytes) {
            $0.setInteger(Int32(6), at: RecordBatchHeader.Offset.recordsCount)
            $0.setInteger(Int32(5), at: RecordBatchHeader.Offset.lastOffsetDelta)
        }
        _ = try RecordBatch.validate(more)  // not visible without decoding
        #expect(throws: RecordBatchError.recordsCountMismatch(declared: 6, found: 5)) {
            try RecordBatch.decode(more, maximumUncompressedSize: Self.maximum)
        }
        let fewer = Self.tamper(bytes) { $0.setInteger(Int32(4), at: RecordBatchHeader.Offset.recordsCount) }
        #expect(throws: RecordBatchError.recordsCountMismatch(declared: 4, found: 5)) {
            try RecordBatch.decode(fewer, maximumUncompressedSize: Self.maximum)
        }
        #expect(RecordBatchError.recordsCountMismatch(declared: 4, found: 5).kafkaErrorCode == 87)
        let negative = Self.tamper(bytes) { $0.setInteger(Int32(-1), at: RecordBatchHeader.Offset.recordsCount) }
        #expect(throws: RecordBatchError.invalidRecordsCount(-1)) { try RecordBatch.validate(negative, mode: .stored) }
        if codec == .none {
            // More records than the bytes could hold is caught without decoding.
            let huge = Self.tamper(bytes) { $0.setInteger(Int32(1_000_000), at: RecordBatchHeader.Offset.recordsCount) }
            #expect(throws: RecordBatchError.invalidRecordsCount(1_000_000)) { try RecordBatch.validate(huge, mode: .stored) }
        }
    }

    @Test("malformed records, trailing bytes, unknown codec, decompression limit")
    func otherErrors() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 1, key: ByteBuffer(string: "key"), value: ByteBuffer(string: "value"))
        let bytes = try builder.finish()
        // The record's key length (after length 1, attributes 1, timestampDelta 1, offsetDelta 1) claims 100 bytes.
        let badKey = Self.tamper(bytes) { $0.setInteger(UInt8(200), at: RecordBatchHeader.size + 4) }
        let error = #expect(throws: RecordBatchError.self) { try RecordBatch.decode(badKey, maximumUncompressedSize: 1000) }
        guard case .malformedRecord(index: 0, let wire)? = error else {
            Issue.record("expected malformedRecord, got \(String(describing: error))")
            return
        }
        #expect(wire.field == "Record.Key")
        #expect(error?.kafkaErrorCode == 87)

        // Garbage after the last record.
        var withGarbage = ByteBuffer(bytes: Array(bytes.readableBytesView))
        withGarbage.writeBytes([0xFF, 0xFF])
        withGarbage.setInteger(Int32(withGarbage.readableBytes - 12), at: RecordBatchHeader.Offset.batchLength)
        RecordBatch.updateCRC(in: &withGarbage, batchAt: 0, batchSize: withGarbage.readableBytes)
        #expect(throws: RecordBatchError.trailingRecordBytes(2)) { try RecordBatch.decode(withGarbage, maximumUncompressedSize: 1000) }

        // Codec 5.
        let unknownCodec = Self.tamper(bytes) { $0.setInteger(Int16(5), at: RecordBatchHeader.Offset.attributes) }
        #expect(throws: RecordBatchError.unsupportedCompression(5)) { try RecordBatch.validate(unknownCodec) }
        #expect(RecordBatchError.unsupportedCompression(5).kafkaErrorCode == 76)

        // The decompression bound applies to decode.
        let compressed = try Self.build(.zstd)
        let limited = #expect(throws: RecordBatchError.self) { try RecordBatch.decode(compressed, maximumUncompressedSize: 50_000) }
        #expect(limited == .compression(RecordCompressionError(.exceedsMaximumSize(50_000), codec: .zstd)))
        #expect(limited?.kafkaErrorCode == 87)
        #expect(limited?.description.contains("exceeds the maximum") == true)
    }

    @Test("setLogAppendTime rewrites the type and maxTimestamp and keeps the CRC valid")
    func logAppendTime() throws {
        var bytes = try Self.build(.snappy)
        RecordBatch.setLogAppendTime(1_800_000_000_000, in: &bytes)
        let header = try RecordBatch.validate(bytes)
        #expect(header.attributes.timestampType == .logAppendTime && header.attributes.compression == .snappy)
        #expect(header.maxTimestamp == 1_800_000_000_000)
    }

    @Test("attributes bits")
    func attributes() {
        var attributes = RecordBatchAttributes(
            compression: .zstd, timestampType: .logAppendTime, isTransactional: true, isControl: true, hasDeleteHorizonMs: true)
        #expect(attributes.rawValue == 0b111_1100)
        attributes.isControl = false
        attributes.compressionID = 2
        #expect(attributes.rawValue == 0b101_1010 && attributes.compression == .snappy)
        #expect(RecordBatchAttributes(rawValue: 7).compression == nil)
    }

    @Test("a record's size matches its encoding")
    func recordSize() throws {
        for input in Self.sampleInput() {
            let record = Record(timestampDelta: -5, offsetDelta: 300, key: input.key, value: input.value, headers: input.headers)
            var buffer = ByteBuffer()
            record.write(to: &buffer)
            #expect(buffer.readableBytes == record.encodedSize)
            #expect(try Record.read(from: &buffer) == record)
            #expect(buffer.readableBytes == 0)
        }
    }
}
