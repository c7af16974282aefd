import CCompressionLibs
import NIOCore

/// lz4 (codec 3): the LZ4 frame format (magic 0x184D2204). We write what Java's `Lz4BlockOutputStream`
/// writes: independent 64 KiB blocks, no block checksum, no content checksum, no content size. Any valid
/// frame (or several back to back) decodes.
enum LZ4Codec {
    static func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(RecordCompressionError) {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum
        preferences.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
        preferences.frameInfo.frameType = LZ4F_frame
        preferences.compressionLevel = 0  // the fast compressor
        output.reserveCapacity(minimumWritableBytes: LZ4F_compressFrameBound(input.count, &preferences))
        let result = output.withUnsafeMutableWritableBytes { target in
            LZ4F_compressFrame(target.baseAddress, target.count, input.baseAddress, input.count, &preferences)
        }
        guard LZ4F_isError(result) == 0 else {
            throw RecordCompressionError(.libraryFailure(String(cString: LZ4F_getErrorName(result))), codec: .lz4)
        }
        output.moveWriterIndex(forwardBy: result)
    }

    static func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, maximumSize: Int
    ) throws(RecordCompressionError) {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw RecordCompressionError(.libraryFailure("cannot create an LZ4F decompression context"), codec: .lz4)
        }
        defer { LZ4F_freeDecompressionContext(context) }
        var budget = DecompressionBudget(output: output, maximumSize: maximumSize, compressedSize: input.count)
        var consumed = 0
        while true {
            let room = budget.reserve(&output)
            var sourceSize = input.count - consumed
            var written = room
            let hint = output.withUnsafeMutableWritableBytes { target in
                LZ4F_decompress(context, target.baseAddress, &written, input.baseAddress! + consumed, &sourceSize, nil)
            }
            guard LZ4F_isError(hint) == 0 else {
                throw RecordCompressionError(.corruptInput(String(cString: LZ4F_getErrorName(hint))), codec: .lz4)
            }
            consumed += sourceSize
            output.moveWriterIndex(forwardBy: written)
            try budget.check(output, codec: .lz4)
            if hint == 0 {
                // A frame ended; the context is ready for another one if input remains.
                if consumed == input.count { return }
            } else if consumed == input.count && written < room {
                // All input taken, output not full, and the frame wants more.
                throw RecordCompressionError(.truncatedInput, codec: .lz4)
            }
        }
    }
}
