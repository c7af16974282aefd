import CCompressionLibs
import NIOCore

/// snappy (codec 2). Java wraps raw snappy blocks in xerial's `SnappyOutputStream` framing:
///
///     0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version = 1, int32 minimum compatible version = 1,
///     then repeated (int32 compressed length, raw snappy block of up to 32 KiB of input), all big-endian.
///
/// librdkafka writes one raw snappy block with no framing. We decode both (like Java's
/// `SnappyInputStream`: no magic means one raw block) and write the xerial framing.
enum SnappyCodec {
    static let xerialMagic: UInt64 = 0x8253_4E41_5050_5900
    static let xerialHeaderSize = 16
    static let xerialBlockSize = 32 * 1024

    static func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(RecordCompressionError) {
        output.writeInteger(xerialMagic)
        output.writeInteger(Int32(1))
        output.writeInteger(Int32(1))
        var offset = 0
        while offset < input.count {
            let block = UnsafeRawBufferPointer(rebasing: input[offset..<min(offset + xerialBlockSize, input.count)])
            var compressedLength = snappy_max_compressed_length(block.count)
            output.reserveCapacity(minimumWritableBytes: 4 + compressedLength)
            let lengthIndex = output.writerIndex
            output.writeInteger(Int32(0))  // patched below
            let status = output.withUnsafeMutableWritableBytes { target in
                snappy_compress(
                    block.baseAddress!.assumingMemoryBound(to: CChar.self), block.count,
                    target.baseAddress!.assumingMemoryBound(to: CChar.self), &compressedLength)
            }
            guard status == SNAPPY_OK else {
                throw RecordCompressionError(.libraryFailure("snappy_compress returned \(status.rawValue)"), codec: .snappy)
            }
            output.moveWriterIndex(forwardBy: compressedLength)
            output.setInteger(Int32(compressedLength), at: lengthIndex)
            offset += block.count
        }
    }

    static func isXerialFramed(_ input: UnsafeRawBufferPointer) -> Bool {
        input.count >= xerialHeaderSize && UInt64(bigEndian: input.loadUnaligned(as: UInt64.self)) == xerialMagic
    }

    static func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, maximumSize: Int
    ) throws(RecordCompressionError) {
        guard isXerialFramed(input) else {
            _ = try decompressBlock(input, into: &output, allowance: maximumSize, maximumSize: maximumSize)
            return
        }
        var offset = xerialHeaderSize
        var produced = 0
        while offset < input.count {
            guard input.count - offset >= 4 else { throw RecordCompressionError(.truncatedInput, codec: .snappy) }
            let length = Int(Int32(bigEndian: input.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            offset += 4
            guard length >= 0 else {
                throw RecordCompressionError(.corruptInput("negative xerial block length \(length)"), codec: .snappy)
            }
            guard length <= input.count - offset else { throw RecordCompressionError(.truncatedInput, codec: .snappy) }
            let block = UnsafeRawBufferPointer(rebasing: input[offset..<offset + length])
            produced += try decompressBlock(block, into: &output, allowance: maximumSize - produced, maximumSize: maximumSize)
            offset += length
        }
    }

    /// Decodes one raw snappy block, whose header states its uncompressed length: checked against
    /// `allowance` before anything is allocated.
    static func decompressBlock(
        _ block: UnsafeRawBufferPointer, into output: inout ByteBuffer, allowance: Int, maximumSize: Int
    ) throws(RecordCompressionError) -> Int {
        guard let source = block.baseAddress?.assumingMemoryBound(to: CChar.self), block.count > 0 else {
            throw RecordCompressionError(.corruptInput("empty snappy block"), codec: .snappy)
        }
        var length = 0
        guard snappy_uncompressed_length(source, block.count, &length) == SNAPPY_OK else {
            throw RecordCompressionError(.corruptInput("bad snappy block header"), codec: .snappy)
        }
        guard length <= allowance else { throw RecordCompressionError(.exceedsMaximumSize(maximumSize), codec: .snappy) }
        if length == 0 {
            guard snappy_validate_compressed_buffer(source, block.count) == SNAPPY_OK else {
                throw RecordCompressionError(.corruptInput("invalid snappy block"), codec: .snappy)
            }
            return 0
        }
        output.reserveCapacity(minimumWritableBytes: length)
        var written = length
        let status = output.withUnsafeMutableWritableBytes { target in
            snappy_uncompress(source, block.count, target.baseAddress!.assumingMemoryBound(to: CChar.self), &written)
        }
        guard status == SNAPPY_OK, written == length else {
            throw RecordCompressionError(.corruptInput("invalid snappy block"), codec: .snappy)
        }
        output.moveWriterIndex(forwardBy: written)
        return written
    }
}
