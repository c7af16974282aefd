/// Random version-4 UUIDs printed as `java.util.UUID.toString()` prints them (8-4-4-4-12 lowercase hex):
/// Kafka's member ids end in one, and tools that parse member ids expect that shape.
enum JavaUUID {
    static func random<R: RandomNumberGenerator>(using random: inout R) -> String {
        var high: UInt64 = random.next()
        var low: UInt64 = random.next()
        high = (high & ~0xF000) | 0x4000
        low = (low & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000
        return hex(high >> 32, 8) + "-" + hex(high >> 16, 4) + "-" + hex(high, 4) + "-"
            + hex(low >> 48, 4) + "-" + hex(low, 12)
    }

    private static func hex(_ value: UInt64, _ digits: Int) -> String {
        let masked = digits >= 16 ? value : value & ((1 << UInt64(digits * 4)) - 1)
        let text = String(masked, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
