import CCompressionLibs
import NIOCore

/// zstd (codec 4): standard zstd frames. Java's zstd-jni streams write no content size, so decoding is
/// streaming and does not rely on it.
enum ZstdCodec {
    /// Kafka's default `compression.zstd.level`.
    static let level: Int32 = 3

    static func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(RecordCompressionError) {
        guard let context = ZSTD_createCCtx() else {
            throw RecordCompressionError(.libraryFailure("cannot create a zstd compression context"), codec: .zstd)
        }
        defer { ZSTD_freeCCtx(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        output.reserveCapacity(minimumWritableBytes: ZSTD_compressBound(input.count))
        let result = output.withUnsafeMutableWritableBytes { target in
            ZSTD_compress2(context, target.baseAddress, target.count, input.baseAddress, input.count)
        }
        try check(result)
        output.moveWriterIndex(forwardBy: result)
    }

    static func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, maximumSize: Int
    ) throws(RecordCompressionError) {
        guard let context = ZSTD_createDCtx() else {
            throw RecordCompressionError(.libraryFailure("cannot create a zstd decompression context"), codec: .zstd)
        }
        defer { ZSTD_freeDCtx(context) }
        // The decoder allocates a window buffer of the size the frame asks for. Allow what any standard
        // level needs (8 MiB, levels up to 19) or what the output bound needs, never more than zstd's
        // default cap (128 MiB).
        let bits = Int.bitWidth - max(maximumSize - 1, 1).leadingZeroBitCount
        try check(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Int32(min(max(bits, 23), 27))))

        // A frame that states its size is sized at once, or refused before any work.
        let contentSize = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if contentSize < UInt64.max - 1 {  // not ZSTD_CONTENTSIZE_UNKNOWN / _ERROR
            guard contentSize <= UInt64(max(0, maximumSize)) else {
                throw RecordCompressionError(.exceedsMaximumSize(maximumSize), codec: .zstd)
            }
            output.reserveCapacity(minimumWritableBytes: Int(contentSize))
        }

        var budget = DecompressionBudget(output: output, maximumSize: maximumSize, compressedSize: input.count)
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let room = budget.reserve(&output)
            var written = 0
            let result = output.withUnsafeMutableWritableBytes { target in
                var sink = ZSTD_outBuffer(dst: target.baseAddress, size: room, pos: 0)
                defer { written = sink.pos }
                return ZSTD_decompressStream(context, &sink, &source)
            }
            if ZSTD_isError(result) != 0 {
                throw RecordCompressionError(.corruptInput(String(cString: ZSTD_getErrorName(result))), codec: .zstd)
            }
            output.moveWriterIndex(forwardBy: written)
            try budget.check(output, codec: .zstd)
            let inputDone = source.pos == source.size
            if result == 0 && inputDone { return }  // the last frame is complete
            if inputDone && written < room && result != 0 {
                throw RecordCompressionError(.truncatedInput, codec: .zstd)
            }
        }
    }

    private static func check(_ code: Int) throws(RecordCompressionError) {
        if ZSTD_isError(code) != 0 {
            throw RecordCompressionError(.libraryFailure(String(cString: ZSTD_getErrorName(code))), codec: .zstd)
        }
    }
}
