import MartletProtocol
import NIOCore
import NIOEmbedded
import Testing

@Suite struct KafkaFrameDecoderTests {
    private func channel(maximum: Int = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximum)))
        return channel
    }

    private func frame(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(body.count))
        buffer.writeBytes(body)
        return buffer
    }

    @Test func splitsFramesArrivingInPiecesAndTogether() throws {
        let channel = try channel()
        var stream = frame([1, 2, 3])
        stream.writeImmutableBuffer(frame([]))
        stream.writeImmutableBuffer(frame([9, 8]))
        // Feed one byte at a time: the decoder must wait for whole frames.
        while let byte = stream.readSlice(length: 1) {
            try channel.writeInbound(byte)
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: []))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [9, 8]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test func rejectsHostileSizePrefixBeforeBufferingIt() throws {
        let channel = try channel()
        var prefix = ByteBuffer()
        prefix.writeInteger(Int32.max)  // a 2 GiB claim, with nothing behind it
        #expect(throws: KafkaWireError.self) { try channel.writeInbound(prefix) }
        _ = try? channel.finish()
    }

    @Test func rejectsNegativeAndOversizedFrames() {
        for size in [Int32(-1), Int32.min, 1025] {
            var buffer = ByteBuffer()
            buffer.writeInteger(size)
            #expect(throws: KafkaWireError(.invalidFrameSize(Int64(size), maximum: 1024), fieldName: "frame size")) {
                _ = try KafkaFrame.next(from: &buffer, maximumFrameSize: 1024)
            }
        }
    }

    @Test func acceptsFrameOfExactlyTheMaximum() throws {
        var buffer = frame([UInt8](repeating: 7, count: 1024))
        let body = try KafkaFrame.next(from: &buffer, maximumFrameSize: 1024)
        #expect(body?.readableBytes == 1024)
    }
}
