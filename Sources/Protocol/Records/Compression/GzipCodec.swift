import CCompressionLibs
import NIOCore

/// gzip (codec 1): RFC 1952 streams through zlib. Java writes them with `GZIPOutputStream`.
enum GzipCodec {
    static func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) throws(RecordCompressionError) {
        guard input.count <= Int(UInt32.max) else { throw RecordCompressionError(.inputTooLarge(input.count), codec: .gzip) }
        var stream = z_stream()
        // windowBits 31 = a 32 KiB window (15) + the gzip wrapper (16); default level (6), memLevel 8.
        let initStatus = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw RecordCompressionError(.libraryFailure("deflateInit2 returned \(initStatus)"), codec: .gzip)
        }
        defer { deflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        // deflateBound is enough for a single deflate(Z_FINISH) call.
        output.reserveCapacity(minimumWritableBytes: Int(deflateBound(&stream, uLong(input.count))))
        var status = Z_OK
        let written = output.withUnsafeMutableWritableBytes { target in
            let room = uInt(min(target.count, Int(UInt32.max)))
            stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = room
            status = deflate(&stream, Z_FINISH)
            return Int(room - stream.avail_out)
        }
        output.moveWriterIndex(forwardBy: written)
        guard status == Z_STREAM_END else {
            throw RecordCompressionError(.libraryFailure("deflate returned \(status)"), codec: .gzip)
        }
    }

    static func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, maximumSize: Int
    ) throws(RecordCompressionError) {
        guard input.count <= Int(UInt32.max) else { throw RecordCompressionError(.inputTooLarge(input.count), codec: .gzip) }
        var stream = z_stream()
        // windowBits 47 = 15 + 32: accept a gzip or a zlib header.
        let initStatus = inflateInit2_(&stream, 47, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw RecordCompressionError(.libraryFailure("inflateInit2 returned \(initStatus)"), codec: .gzip)
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        var budget = DecompressionBudget(output: output, maximumSize: maximumSize, compressedSize: input.count)
        while true {
            let room = uInt(min(budget.reserve(&output), Int(UInt32.max)))
            var status = Z_OK
            let written = output.withUnsafeMutableWritableBytes { target in
                stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = room
                status = inflate(&stream, Z_NO_FLUSH)
                return Int(room - stream.avail_out)
            }
            output.moveWriterIndex(forwardBy: written)
            try budget.check(output, codec: .gzip)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                if stream.avail_in == 0 { return }
                // Another gzip member follows; like GZIPInputStream, members concatenate.
                guard inflateReset(&stream) == Z_OK else {
                    throw RecordCompressionError(.libraryFailure("inflateReset failed"), codec: .gzip)
                }
            case Z_BUF_ERROR:
                // No progress possible. There was room for output, so the input ran out mid-stream.
                throw RecordCompressionError(.truncatedInput, codec: .gzip)
            case Z_MEM_ERROR:
                throw RecordCompressionError(.libraryFailure("out of memory"), codec: .gzip)
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                throw RecordCompressionError(.corruptInput(reason), codec: .gzip)
            }
        }
    }
}
