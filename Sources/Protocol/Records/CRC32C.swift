import CCRC32C
import NIOCore

/// CRC-32C (Castagnoli), the checksum of v2 record batches (over bytes [21, end) of a batch).
///
/// Backed by `CCRC32C`: the CPU's CRC instruction (SSE 4.2 / ARMv8 CRC) when present, several GB/s on
/// large inputs; a slicing-by-8 table otherwise. Not `@inlinable` on purpose: the call costs nothing next
/// to the checksum, and clients of this module need not see the C module.
public enum CRC32C {
    /// The checksum of `bytes`; pass an earlier result as `crc` to continue it over more bytes.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return martlet_crc32c(crc, base, bytes.count)
    }

    /// The checksum of `buffer`'s readable bytes.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { checksum($0) }
    }

    /// The portable slicing-by-8 implementation, never the CRC instruction (for tests and benchmarks).
    static func portableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return martlet_crc32c_portable(crc, base, bytes.count)
    }

    /// Whether `checksum` uses the CPU's CRC instruction on this machine.
    static var usesHardware: Bool { martlet_crc32c_uses_hardware() != 0 }
}
