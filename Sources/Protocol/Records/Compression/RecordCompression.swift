import NIOCore

/// Compresses and decompresses the records area of a v2 batch (the bytes after `recordsCount`).
///
/// Output matches what the Java client writes: gzip streams, xerial-framed snappy with 32 KiB blocks,
/// LZ4 frames with independent 64 KiB blocks and no checksums, zstd frames at level 3. Decompression
/// accepts every form a Kafka client may send (raw or xerial snappy, concatenated gzip members, any valid
/// LZ4 or zstd frame) and is bounded: it never writes more than `maximumSize` bytes, grows its output
/// as the data arrives, and reports a stream that would exceed the bound as `.exceedsMaximumSize`.
/// An empty input decompresses to an empty output with every codec.
public enum RecordCompression {
    /// `input`'s readable bytes compressed with `codec` into a new buffer (`input` itself for `.none`).
    public static func compress(
        _ input: ByteBuffer, codec: CompressionCodec, allocator: ByteBufferAllocator = .init()
    ) throws(RecordCompressionError) -> ByteBuffer {
        if codec == .none { return input }
        var output = allocator.buffer(capacity: 0)
        try compress(input, codec: codec, appendingTo: &output)
        return output
    }

    /// Appends `input`'s readable bytes, compressed with `codec`, to `output`.
    public static func compress(
        _ input: ByteBuffer, codec: CompressionCodec, appendingTo output: inout ByteBuffer
    ) throws(RecordCompressionError) {
        let result: Result<Void, RecordCompressionError> = withReadableBytes(input) { source in
            do throws(RecordCompressionError) {
                switch codec {
                case .none: output.writeBytes(source)
                case .gzip: try GzipCodec.compress(source, into: &output)
                case .snappy: try SnappyCodec.compress(source, into: &output)
                case .lz4: try LZ4Codec.compress(source, into: &output)
                case .zstd: try ZstdCodec.compress(source, into: &output)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// `input`'s readable bytes decompressed with `codec` into a new buffer of at most `maximumSize` bytes
    /// (`input` itself for `.none`, if it fits).
    public static func decompress(
        _ input: ByteBuffer, codec: CompressionCodec, maximumSize: Int, allocator: ByteBufferAllocator = .init()
    ) throws(RecordCompressionError) -> ByteBuffer {
        if codec == .none {
            guard input.readableBytes <= maximumSize else {
                throw RecordCompressionError(.exceedsMaximumSize(maximumSize), codec: codec)
            }
            return input
        }
        var output = allocator.buffer(capacity: 0)
        try decompress(input, codec: codec, maximumSize: maximumSize, appendingTo: &output)
        return output
    }

    /// Appends `input`'s readable bytes, decompressed with `codec`, to `output`; appends at most
    /// `maximumSize` bytes (anything past that is an error).
    public static func decompress(
        _ input: ByteBuffer, codec: CompressionCodec, maximumSize: Int, appendingTo output: inout ByteBuffer
    ) throws(RecordCompressionError) {
        if input.readableBytes == 0 { return }
        let result: Result<Void, RecordCompressionError> = withReadableBytes(input) { source in
            do throws(RecordCompressionError) {
                switch codec {
                case .none:
                    guard source.count <= maximumSize else {
                        throw RecordCompressionError(.exceedsMaximumSize(maximumSize), codec: codec)
                    }
                    output.writeBytes(source)
                case .gzip: try GzipCodec.decompress(source, into: &output, maximumSize: maximumSize)
                case .snappy: try SnappyCodec.decompress(source, into: &output, maximumSize: maximumSize)
                case .lz4: try LZ4Codec.decompress(source, into: &output, maximumSize: maximumSize)
                case .zstd: try ZstdCodec.decompress(source, into: &output, maximumSize: maximumSize)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// The readable bytes with a non-nil base address even when empty (the C libraries want one).
    static func withReadableBytes<R>(_ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if buffer.readableBytes == 0 {
            return withUnsafeBytes(of: UInt64(0)) { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
        }
        return buffer.withUnsafeReadableBytes(body)
    }
}

/// The output bound and growth policy of a streaming decompressor writing into a `ByteBuffer`.
///
/// The decoder may write one byte past `maximumSize`, so that a stream producing more is detected
/// without a separate probe; `check` then reports it. Output capacity starts near a guess from the
/// compressed size and doubles as needed, never beyond `maximumSize + 1` bytes requested.
struct DecompressionBudget {
    let start: Int
    let maximumSize: Int
    private let cap: Int
    private var nextGrowth: Int

    init(output: ByteBuffer, maximumSize: Int, compressedSize: Int) {
        self.start = output.writerIndex
        self.maximumSize = max(0, maximumSize)
        self.cap = self.maximumSize == Int.max ? Int.max : self.maximumSize + 1
        self.nextGrowth = min(max(4096, compressedSize.multipliedReportingOverflow(by: 4).partialValue), 1 << 22)
    }

    func produced(_ output: ByteBuffer) -> Int { output.writerIndex - start }

    /// Makes room for the decoder's next step and returns how many bytes it may write now (at least 1).
    mutating func reserve(_ output: inout ByteBuffer) -> Int {
        let room = cap - produced(output)
        if output.writableBytes < min(room, 512) {
            let grow = min(max(nextGrowth, produced(output)), room)
            output.reserveCapacity(minimumWritableBytes: grow)
            nextGrowth = grow
        }
        return min(output.writableBytes, room)
    }

    /// Throws if the decoder has written past `maximumSize`.
    func check(_ output: ByteBuffer, codec: CompressionCodec) throws(RecordCompressionError) {
        if produced(output) > maximumSize {
            throw RecordCompressionError(.exceedsMaximumSize(maximumSize), codec: codec)
        }
    }
}
