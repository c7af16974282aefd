import MartletProtocol
import NIOCore

/// Reads the batches of a segment file in order, through a reusable window of about 1 MiB, for
/// recovery: each batch comes out as an exact slice that `RecordBatch.validate` can check in place.
struct SegmentBatchReader {
    enum Next {
        case batch(ByteBuffer)
        case end
        /// The bytes at the current position are not a whole batch: why.
        case incomplete(String)
    }

    static let windowSize = 1 << 20

    let file: SegmentFile
    let size: Int
    /// File position of `window.readerIndex`.
    private(set) var position: Int
    private var window: ByteBuffer

    init(file: SegmentFile, size: Int, from position: Int = 0, allocator: ByteBufferAllocator = .init()) {
        self.file = file
        self.size = size
        self.position = position
        self.window = allocator.buffer(capacity: min(Self.windowSize, max(size - position, 0)))
    }

    /// The next batch, or why there is none. A batch whose length field reaches past the end of the
    /// file is `.incomplete` without being read (a torn write or a garbage length).
    mutating func next() throws(LogError) -> Next {
        let remaining = size - position
        if remaining == 0 { return .end }
        if remaining < RecordBatchHeader.logOverhead { return .incomplete("\(remaining) trailing bytes") }
        try fill(RecordBatchHeader.logOverhead)
        let length: Int32 = window.getInteger(at: window.readerIndex + RecordBatchHeader.Offset.batchLength)!
        guard length >= RecordBatchHeader.minimumBatchLength else { return .incomplete("batch length \(length)") }
        let total = RecordBatchHeader.logOverhead + Int(length)
        guard total <= remaining else { return .incomplete("batch of \(total) bytes with \(remaining) left in the file") }
        try fill(total)
        position += total
        return .batch(window.readSlice(length: total)!)
    }

    /// Makes at least `count` bytes from `position` readable in the window.
    private mutating func fill(_ count: Int) throws(LogError) {
        guard window.readableBytes < count else { return }
        window.discardReadBytes()
        let want = min(max(count, Self.windowSize), size - position) - window.readableBytes
        let fileOffset = Int64(position + window.readableBytes)
        var failure: LogError?
        let file = self.file
        let read = window.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { bytes in
            do throws(LogError) {
                return try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<want]), at: fileOffset)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        guard read == want else { throw LogError.io(operation: "pread (short read)", path: file.path, errno: 0) }
    }
}
