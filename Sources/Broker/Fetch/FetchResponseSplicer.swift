import MartletProtocol
import NIOCore

/// Sends Fetch records straight from the segment files (sendfile), as Kafka does, while the response
/// itself is still written by the generated FetchResponse encoder.
///
/// Each partition's records are first encoded as a 16-byte placeholder: a random per-response nonce and
/// the partition's index. After encoding, each placeholder (with its length prefix) is cut out and
/// replaced by the real length prefix and the file regions of the log slices; the frame's size prefix
/// is corrected. The nonce is random for every response, so no other bytes of the response (topic names,
/// say) can pass for a placeholder, and each match is checked for its index and length prefix.
struct FetchResponseSplicer {
    static let placeholderSize = 16

    let nonce = UInt64.random(in: 1...UInt64.max)
    private(set) var reads: [LogReadResult] = []

    /// The placeholder to put in a partition's `records` for `read`.
    mutating func placeholder(for read: LogReadResult) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(nonce)
        buffer.writeInteger(UInt64(reads.count))
        reads.append(read)
        return buffer
    }

    /// The frame with every placeholder replaced by its file regions. `flexible`: compact (unsigned varint
    /// N+1) length prefixes, else int32 N.
    func splice(_ frame: ByteBuffer, flexible: Bool) -> ResponseFrame {
        guard !reads.isEmpty else { return ResponseFrame(frame) }
        let oldPrefixLength = flexible ? KafkaSize.unsignedVarint(UInt32(Self.placeholderSize + 1)) : 4
        let positions = placeholderPositions(in: frame)
        precondition(positions.count == reads.count, "fetch response placeholders not all found")

        var parts: [IOData] = []
        var cursor = frame.readerIndex
        var sizeChange = 0
        for (index, position) in positions.enumerated() {
            let read = reads[index]
            let prefixStart = position - oldPrefixLength
            var head = ByteBuffer()
            head.reserveCapacity(prefixStart - cursor + 5)
            head.writeImmutableBuffer(frame.getSlice(at: cursor, length: prefixStart - cursor)!)
            if flexible {
                head.writeUnsignedVarint(UInt32(read.size + 1))
            } else {
                head.writeInteger(Int32(read.size))
            }
            sizeChange += (head.readableBytes - (prefixStart - cursor)) - oldPrefixLength + read.size - Self.placeholderSize
            parts.append(.byteBuffer(head))
            for slice in read.slices { parts.append(.fileRegion(slice.borrowedFileRegion())) }
            cursor = position + Self.placeholderSize
        }
        parts.append(.byteBuffer(frame.getSlice(at: cursor, length: frame.writerIndex - cursor)!))
        // The frame's size prefix is in the first part.
        if case .byteBuffer(var first) = parts[0] {
            let size = first.getInteger(at: first.readerIndex, as: Int32.self)!
            first.setInteger(size + Int32(sizeChange), at: first.readerIndex)
            parts[0] = .byteBuffer(first)
        }
        return ResponseFrame(parts: parts, keepAlive: reads)
    }

    /// Where each placeholder's 16 bytes start, in order; a candidate counts only with the right index.
    private func placeholderPositions(in frame: ByteBuffer) -> [Int] {
        var positions: [Int] = []
        var index = frame.readerIndex
        let end = frame.writerIndex - Self.placeholderSize
        while index <= end && positions.count < reads.count {
            if frame.getInteger(at: index, as: UInt64.self) == nonce,
               frame.getInteger(at: index + 8, as: UInt64.self) == UInt64(positions.count) {
                positions.append(index)
                index += Self.placeholderSize
            } else {
                index += 1
            }
        }
        return positions
    }
}
