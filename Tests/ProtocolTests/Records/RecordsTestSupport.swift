import NIOCore

/// Deterministic pseudo-random bytes for the records tests (SplitMix64).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

enum RecordsTestData {
    /// Compressible text-like data: words from a small vocabulary with random numbers.
    static func compressible(_ count: Int, seed: UInt64 = 1) -> ByteBuffer {
        var random = TestRandom(seed: seed)
        let words = ["kafka", "martlet", "record", "batch", "offset", "partition", "leader", "epoch", "swift"]
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count + 32)
        while buffer.readableBytes < count {
            buffer.writeString(words[Int.random(in: 0..<words.count, using: &random)])
            buffer.writeString(" \(UInt16.random(in: 0...999, using: &random)) ")
        }
        buffer.moveWriterIndex(to: count)
        return buffer
    }

    static func random(_ count: Int, seed: UInt64 = 2) -> ByteBuffer {
        var random = TestRandom(seed: seed)
        return ByteBuffer(bytes: random.bytes(count))
    }

    static func hex(_ string: String) -> ByteBuffer {
        var bytes: [UInt8] = []
        var high: UInt8?
        for character in string where character.isHexDigit {
            let nibble = UInt8(character.hexDigitValue!)
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return ByteBuffer(bytes: bytes)
    }
}
