import NIOCore
import Testing

@testable import MartletProtocol

/// Batches written by kafka-python 3.0.12 (`DefaultRecordBatchBuilder`: gzip, xerial snappy, LZ4 frame with
/// content size, zstd) and a raw-snappy batch (as librdkafka writes) built from the uncompressed one with
/// python-snappy; producerId 99, epoch 2, baseSequence 10, three records:
/// ("key-0", "value-0"), (null, "hello " x 40, headers h1=v1, h2=null), ("tomb", null).
@Suite("Batches from other clients")
struct ForeignBatchTests {
    static let batches: [(name: String, codec: CompressionCodec, hex: [String])] = [
        ("none", .none, [
            "0000000000000000000001520000000002e1577a830000000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a00000003240000000a6b65792d300e76616c75652d30008204000e0201e00368656c6c6f206865",
            "6c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f206865",
            "6c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f206865",
            "6c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f206865",
            "6c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f206865",
            "6c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f2068656c6c6f200404683104763104",
            "6832011400010408746f6d620100",
        ]),
        ("gzip", .gzip, [
            "00000000000000000000007e0000000002786c57d30001000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a000000031f8b0800cd95046b02ff53616060e0ca4eadd435e02b4bcc294dd53560686261e06362",
            "7cc09c919a9393af30724816960c43963243960c2346110646168e92fcdc2446060026547f9f21010000",
        ]),
        ("snappy", .snappy, [
            "00000000000000000000008c0000000002a972ec9a0002000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a0000000382534e4150505900000000010000000100000047a10280240000000a6b65792d300e76",
            "616c75652d30008204000e0201e00368656c6c6f20fe0600fe0600fe0600a60600540404683104763104683201140001",
            "0408746f6d620100",
        ]),
        ("lz4", .lz4, [
            "0000000000000000000000860000000002af5488040003000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a0000000304224d1868402101000000000000463e000000ff12240000000a6b65792d300e76616c",
            "75652d30008204000e0201e00368656c6c6f200600d7f00704046831047631046832011400010408746f6d6201000000",
            "0000",
        ]),
        ("zstd", .zstd, [
            "00000000000000000000007a00000000024efbc9010004000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a0000000328b52ffd602100fd01007403240000000a6b65792d300e76616c75652d30008204000e",
            "0201e00368656c6c6f2004046831047631046832011400010408746f6d620100010039872a4f",
        ]),
        ("rawsnappy", .snappy, [
            "0000000000000000000000780000000002ba3316b00002000000020000018bcfe568000000018bcfe568070000000000",
            "00006300020000000a00000003a10280240000000a6b65792d300e76616c75652d30008204000e0201e00368656c6c6f",
            "20fe0600fe0600fe0600a606005404046831047631046832011400010408746f6d620100",
        ]),
    ]

    @Test("kafka-python batches decode", arguments: batches.map(\.name))
    func decode(name: String) throws {
        let entry = Self.batches.first { $0.name == name }!
        let bytes = RecordsTestData.hex(entry.hex.joined())
        let header = try RecordBatch.validate(bytes)
        #expect(header.attributes.compression == entry.codec)
        #expect(header.producerId == 99 && header.producerEpoch == 2 && header.baseSequence == 10)
        #expect(header.recordsCount == 3 && header.lastOffsetDelta == 2)
        #expect(header.baseTimestamp == 1_700_000_000_000 && header.maxTimestamp == 1_700_000_000_007)
        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: 1 << 20)
        let records = batch.records
        #expect(records.count == 3)
        #expect(records[0].key == ByteBuffer(string: "key-0") && records[0].value == ByteBuffer(string: "value-0"))
        #expect(records[1].key == nil && records[1].value == ByteBuffer(string: String(repeating: "hello ", count: 40)))
        #expect(records[1].headers == [RecordHeader(key: "h1", value: ByteBuffer(string: "v1")), RecordHeader(key: "h2", value: nil)])
        #expect(records[2].key == ByteBuffer(string: "tomb") && records[2].value == nil)
        #expect(records.map { batch.timestamp(of: $0) } == [1_700_000_000_000, 1_700_000_000_007, 1_699_999_999_999])
        // Re-encoding the uncompressed batch gives kafka-python's bytes back.
        if entry.name == "none" {
            #expect(try batch.encoded() == bytes)
        }
    }
}
