import NIOCore
import Testing

@testable import MartletProtocol

@Suite("CRC-32C")
struct CRC32CTests {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }

    @Test("RFC 3720 B.4 vectors and the check value")
    func knownVectors() {
        #expect(Self.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(Self.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(Self.checksum(Array(0...31)) == 0x46DD_794E)
        #expect(Self.checksum(Array((0...31).reversed())) == 0x113F_DB5C)
        #expect(Self.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(Self.checksum([]) == 0)
        #expect(CRC32C.checksum(ByteBuffer(string: "123456789")) == 0xE306_9283)
    }

    @Test("the portable code gives the same vectors")
    func portableVectors() {
        let portable: ([UInt8]) -> UInt32 = { bytes in bytes.withUnsafeBytes { CRC32C.portableChecksum($0) } }
        #expect(portable([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(portable(Array(0...31)) == 0x46DD_794E)
        #expect(portable(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("hardware equals portable on random lengths, alignments and seeds")
    func hardwareMatchesPortable() {
        var random = TestRandom(seed: 42)
        let data = random.bytes(200_000)
        data.withUnsafeBytes { all in
            // Lengths around the 3-way block thresholds (3 x 256 and 3 x 8192) and random ones.
            var lengths = [0, 1, 7, 8, 9, 15, 16, 63, 255, 767, 768, 769, 1000, 24_575, 24_576, 24_577, 49_152 + 777, 150_000]
            for _ in 0..<300 { lengths.append(Int.random(in: 0...100_000, using: &random)) }
            for length in lengths {
                let offset = Int.random(in: 0..<64, using: &random)
                let seed = UInt32.random(in: 0...UInt32.max, using: &random)
                let slice = UnsafeRawBufferPointer(rebasing: all[offset..<offset + length])
                #expect(CRC32C.checksum(slice, continuing: seed) == CRC32C.portableChecksum(slice, continuing: seed))
            }
        }
        print("CRC-32C uses the CPU instruction: \(CRC32C.usesHardware)")
    }

    @Test("chaining equals one pass")
    func chaining() {
        var random = TestRandom(seed: 7)
        let data = random.bytes(100_000)
        data.withUnsafeBytes { all in
            let whole = CRC32C.checksum(all)
            for _ in 0..<100 {
                let cut = Int.random(in: 0...all.count, using: &random)
                let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[..<cut]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[cut...]), continuing: first) == whole)
            }
        }
        // "123456789" in two pieces.
        let first = Self.checksum(Array("1234".utf8))
        #expect(Array("56789".utf8).withUnsafeBytes { CRC32C.checksum($0, continuing: first) } == 0xE306_9283)
    }
}
