import NIOCore

/// Splits a byte stream into Kafka frames: an int32 size, then that many bytes.
///
/// A size that is negative or over `maximumFrameSize` (Kafka's `socket.request.max.bytes`, 104857600 by
/// default) is an error before anything is buffered for it: the decoder only ever holds the bytes that have
/// actually arrived, never what a hostile prefix claims.
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public static let defaultMaximumFrameSize = 104_857_600

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = KafkaFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try KafkaFrame.next(from: &buffer, maximumFrameSize: maximumFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped: the peer went away mid-request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Frame splitting without NIO's pipeline, for the decoder, the fuzzer and tests.
public enum KafkaFrame {
    /// The next whole frame's body (size prefix removed) as a slice of `buffer`, or nil if it has not all
    /// arrived yet. Throws for a negative or oversized size prefix.
    @inlinable
    public static func next(from buffer: inout ByteBuffer, maximumFrameSize: Int) throws(KafkaWireError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else { return nil }
        guard size >= 0, Int(size) <= maximumFrameSize else {
            throw KafkaWireError(.invalidFrameSize(Int64(size), maximum: maximumFrameSize), field: "frame size")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    /// Writes `body` with its int32 size prefix in front: reserve four bytes, write, then fill them in.
    @inlinable
    public static func write(
        into buffer: inout ByteBuffer, body: (inout ByteBuffer) throws(KafkaWireError) -> Void
    ) throws(KafkaWireError) {
        let sizeIndex = buffer.writerIndex
        buffer.writeInteger(0 as Int32)
        try body(&buffer)
        buffer.setInteger(Int32(buffer.writerIndex - sizeIndex - 4), at: sizeIndex, endianness: .big)
    }
}
