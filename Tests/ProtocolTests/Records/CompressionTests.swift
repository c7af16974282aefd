import NIOCore
import Testing

@testable import MartletProtocol

@Suite("Record compression")
struct CompressionTests {
    static let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    @Test("codec ids and Kafka names")
    func names() {
        #expect(CompressionCodec.allCases.map(\.name) == ["none", "gzip", "snappy", "lz4", "zstd"])
        #expect(CompressionCodec.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
        for codec in CompressionCodec.allCases { #expect(CompressionCodec(name: codec.name) == codec) }
        #expect(CompressionCodec(name: "brotli") == nil)
    }

    @Test("round trip of empty, small, random and >1 MiB inputs", arguments: CompressionCodec.allCases)
    func roundTrip(codec: CompressionCodec) throws {
        let inputs = [
            ByteBuffer(),
            ByteBuffer(string: "x"),
            RecordsTestData.compressible(1000),
            RecordsTestData.random(70_000),
            RecordsTestData.compressible(3 * 1024 * 1024 + 17),
        ]
        for input in inputs {
            let compressed = try RecordCompression.compress(input, codec: codec)
            if codec != .none && input.readableBytes > 1000 && input.readableBytes < 100_000 {
                // Random data: bounded expansion.
                #expect(compressed.readableBytes < input.readableBytes + input.readableBytes / 50 + 64)
            }
            if codec != .none && input.readableBytes > 1_000_000 {
                #expect(compressed.readableBytes < input.readableBytes / 2)
            }
            let output = try RecordCompression.decompress(compressed, codec: codec, maximumSize: input.readableBytes)
            #expect(output == input, "\(codec) round trip of \(input.readableBytes) bytes")
        }
    }

    @Test("output formats match the Java client's framing")
    func framing() throws {
        let input = RecordsTestData.compressible(100_000)
        let gzip = try RecordCompression.compress(input, codec: .gzip)
        #expect(gzip.getBytes(at: 0, length: 2) == [0x1F, 0x8B])
        let snappy = try RecordCompression.compress(input, codec: .snappy)
        #expect(snappy.getBytes(at: 0, length: 16) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        // 100,000 bytes in 32 KiB blocks: 4 length-prefixed blocks.
        var offset = 16
        var blocks = 0
        while offset < snappy.writerIndex {
            let length: Int32 = snappy.getInteger(at: offset)!
            offset += 4 + Int(length)
            blocks += 1
        }
        #expect(offset == snappy.writerIndex && blocks == 4)
        let lz4 = try RecordCompression.compress(input, codec: .lz4)
        #expect(lz4.getInteger(at: 0, endianness: .little, as: UInt32.self) == 0x184D_2204)
        // FLG: version 01, block independence, no block checksum, no content size, no content checksum.
        #expect(lz4.getInteger(at: 4, as: UInt8.self) == 0b0110_0000)
        // BD: 64 KiB blocks.
        #expect(lz4.getInteger(at: 5, as: UInt8.self) == 0x40)
        let zstd = try RecordCompression.compress(input, codec: .zstd)
        #expect(zstd.getInteger(at: 0, endianness: .little, as: UInt32.self) == 0xFD2F_B528)
    }

    @Test("snappy decodes a hand-built xerial frame and raw blocks")
    func snappyHandBuilt() throws {
        // Raw block "hello": length 5, literal of 5.
        let hello: [UInt8] = [0x05, 0x10] + Array("hello".utf8)
        // Raw block "abcabcabc": length 9, literal "abc", copy (length 6, offset 3).
        let abc: [UInt8] = [0x09, 0x08] + Array("abc".utf8) + [0x09, 0x03]
        var frame = ByteBuffer(bytes: [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        frame.writeInteger(Int32(hello.count))
        frame.writeBytes(hello)
        frame.writeInteger(Int32(abc.count))
        frame.writeBytes(abc)
        #expect(try RecordCompression.decompress(frame, codec: .snappy, maximumSize: 100) == ByteBuffer(string: "helloabcabcabc"))
        #expect(try RecordCompression.decompress(ByteBuffer(bytes: abc), codec: .snappy, maximumSize: 9) == ByteBuffer(string: "abcabcabc"))
        #expect(try RecordCompression.decompress(ByteBuffer(bytes: hello), codec: .snappy, maximumSize: 5) == ByteBuffer(string: "hello"))
        // Header only: empty.
        #expect(try RecordCompression.decompress(frame.getSlice(at: 0, length: 16)!, codec: .snappy, maximumSize: 0).readableBytes == 0)
        // A frame cut inside a block.
        #expect(throws: RecordCompressionError(.truncatedInput, codec: .snappy)) {
            try RecordCompression.decompress(frame.getSlice(at: 0, length: frame.readableBytes - 1)!, codec: .snappy, maximumSize: 100)
        }
        // The raw block's stated length is checked before decoding.
        #expect(throws: RecordCompressionError(.exceedsMaximumSize(8), codec: .snappy)) {
            try RecordCompression.decompress(ByteBuffer(bytes: abc), codec: .snappy, maximumSize: 8)
        }
    }

    @Test("a decompression bomb is rejected by maximumSize", arguments: codecs)
    func bomb(codec: CompressionCodec) throws {
        let zeros = ByteBuffer(repeating: 0, count: 16 * 1024 * 1024)
        let bomb = try RecordCompression.compress(zeros, codec: codec)
        #expect(bomb.readableBytes < 1024 * 1024)
        #expect(throws: RecordCompressionError(.exceedsMaximumSize(1024 * 1024), codec: codec)) {
            try RecordCompression.decompress(bomb, codec: codec, maximumSize: 1024 * 1024)
        }
        // The bound is exact.
        let exact = try RecordCompression.decompress(bomb, codec: codec, maximumSize: zeros.readableBytes)
        #expect(exact.readableBytes == zeros.readableBytes)
        #expect(throws: RecordCompressionError(.exceedsMaximumSize(zeros.readableBytes - 1), codec: codec)) {
            try RecordCompression.decompress(bomb, codec: codec, maximumSize: zeros.readableBytes - 1)
        }
    }

    @Test("uncompressed input is bounded too")
    func noneBound() {
        #expect(throws: RecordCompressionError(.exceedsMaximumSize(3), codec: .none)) {
            try RecordCompression.decompress(ByteBuffer(string: "abcd"), codec: .none, maximumSize: 3)
        }
    }

    @Test("truncated and corrupt streams are errors", arguments: codecs)
    func truncatedAndCorrupt(codec: CompressionCodec) throws {
        let input = RecordsTestData.compressible(200_000)
        let compressed = try RecordCompression.compress(input, codec: codec)
        for cut in [1, compressed.readableBytes / 2, compressed.readableBytes - 1] {
            let truncated = compressed.getSlice(at: 0, length: cut)!
            #expect(throws: RecordCompressionError.self, "\(codec) cut at \(cut)") {
                try RecordCompression.decompress(truncated, codec: codec, maximumSize: 1 << 24)
            }
        }
        let garbage = RecordsTestData.random(1000, seed: 99)
        #expect(throws: RecordCompressionError.self) {
            try RecordCompression.decompress(garbage, codec: codec, maximumSize: 1 << 24)
        }
        let error = #expect(throws: RecordCompressionError.self) {
            try RecordCompression.decompress(compressed.getSlice(at: 0, length: compressed.readableBytes - 1)!, codec: codec, maximumSize: 1 << 24)
        }
        #expect(error?.description.hasPrefix(codec.name) == true)
    }

    @Test("concatenated gzip members decode as one stream")
    func gzipMembers() throws {
        var both = try RecordCompression.compress(ByteBuffer(string: "first "), codec: .gzip)
        var second = try RecordCompression.compress(ByteBuffer(string: "second"), codec: .gzip)
        both.writeBuffer(&second)
        #expect(try RecordCompression.decompress(both, codec: .gzip, maximumSize: 100) == ByteBuffer(string: "first second"))
    }

    @Test("decompression appends after existing bytes and respects the bound from there")
    func appending() throws {
        let input = RecordsTestData.compressible(50_000)
        for codec in Self.codecs {
            let compressed = try RecordCompression.compress(input, codec: codec)
            var output = ByteBuffer(string: "prefix")
            try RecordCompression.decompress(compressed, codec: codec, maximumSize: 50_000, appendingTo: &output)
            #expect(output.readString(length: 6) == "prefix")
            #expect(output == input)
        }
    }
}
