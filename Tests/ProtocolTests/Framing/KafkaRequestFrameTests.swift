import MartletProtocol
import NIOCore
import Testing

@Suite struct KafkaRequestFrameTests {
    /// A request frame body (no size prefix) as a client writes it.
    static func requestBody<Request: KafkaRequest>(
        _ request: Request, version: Int16, correlationId: Int32 = 7, clientId: String? = "martlet-test"
    ) throws -> ByteBuffer {
        let header = RequestHeader(
            requestApiKey: Request.apiKey.rawValue, requestApiVersion: version, correlationId: correlationId, clientId: clientId
        )
        var buffer = ByteBuffer()
        try header.encode(into: &buffer, version: Request.apiKey.requestHeaderVersion(version))
        try request.encode(into: &buffer, version: version)
        return buffer
    }

    static let metadataV12 = MetadataRequest(
        topics: [.init(topicId: .zero, name: "payments")], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false
    )

    @Test func decodesHeaderAndBodyAtEveryVersion() throws {
        for version in MetadataRequest.validVersions {
            let body = try Self.requestBody(Self.metadataV12, version: version)
            guard case .request(let frame) = try KafkaRequestFrame.decode(body) else {
                Issue.record("v\(version) not decoded as a request")
                continue
            }
            #expect(frame.apiKey == .metadata)
            #expect(frame.correlationId == 7)
            #expect(frame.header.clientId == "martlet-test")
            #expect((frame.body as? MetadataRequest)?.topics?.first?.name == "payments")
        }
    }

    @Test func apiVersionsNewerThanKnownGetsTheFallback() throws {
        var body = try Self.requestBody(ApiVersionsRequest(clientSoftwareName: "x", clientSoftwareVersion: "1"), version: 4)
        body.setInteger(Int16(9), at: 2)  // a future ApiVersions version; its body must not be parsed
        guard case .unsupportedApiVersions(let header) = try KafkaRequestFrame.decode(body) else {
            Issue.record("expected the ApiVersions fallback")
            return
        }
        #expect(header.correlationId == 7)

        var response = KafkaResponseFrame.unsupportedApiVersions(correlationId: 7, supported: 0...4)
        // int32 size, int32 correlation id (response header v0), int16 error 35, int32 count 1, key 18 min 0 max 4.
        #expect(Array(response.readableBytesView) == [0, 0, 0, 16, 0, 0, 0, 7, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 4])
        response.moveReaderIndex(forwardBy: 8)
        let decoded = try ApiVersionsResponse(from: &response, version: 0)
        #expect(decoded.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(decoded.apiKeys == [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
    }

    @Test func unknownApiKeyNamesTheKeyAndKeepsTheHeader() throws {
        var body = ByteBuffer()
        body.writeInteger(Int16(999))
        body.writeInteger(Int16(0))
        body.writeInteger(Int32(42))
        body.writeInteger(Int16(-1))
        let error = #expect(throws: RequestDecodingError.self) { _ = try KafkaRequestFrame.decode(body) }
        #expect(error?.error.kind == .unknownApiKey(999))
        #expect(error?.header?.correlationId == 42)
    }

    @Test func unsupportedVersionIsRejected() throws {
        var body = try Self.requestBody(ProduceRequest(acks: 1, timeoutMs: 1000), version: 3)
        body.setInteger(Int16(2), at: 2)  // Produce v0-2 are advertised by Kafka 4 but rejected
        let error = #expect(throws: RequestDecodingError.self) { _ = try KafkaRequestFrame.decode(body) }
        #expect(error?.error.kind == .unsupportedVersion(apiKey: 0, version: 2))
    }

    @Test func everyTruncationIsATypedError() throws {
        let produce = ProduceRequest(
            transactionalId: nil, acks: -1, timeoutMs: 30_000,
            topicData: [.init(name: "t", partitionData: [.init(index: 0, records: ByteBuffer(bytes: [1, 2, 3, 4]))])]
        )
        for version: Int16 in [3, 9, 13] {
            let full = try Self.requestBody(produce, version: version)
            for length in 0..<full.readableBytes {
                let truncated = full.getSlice(at: 0, length: length)!
                #expect(throws: RequestDecodingError.self, "v\(version) cut at \(length)") { _ = try KafkaRequestFrame.decode(truncated) }
            }
        }
    }

    /// Kafka ignores bytes after a request body, and real clients send some (librdkafka 2.16 after an
    /// all-topics Metadata v12): they are counted, not refused.
    @Test func trailingBytesAreToleratedAndCounted() throws {
        var body = try Self.requestBody(MetadataRequest(topics: nil), version: 12)
        body.writeBytes([1, 0, 0])
        guard case .request(let frame) = try KafkaRequestFrame.decode(body) else {
            Issue.record("not decoded as a request")
            return
        }
        #expect(frame.trailingBytes == 3)
        #expect((frame.body as? MetadataRequest)?.topics == nil)
    }

    @Test func invalidUTF8NamesTheField() throws {
        var body = try Self.requestBody(ApiVersionsRequest(), version: 0, clientId: "ab")
        body.setBytes([0xC3, 0x28], at: body.readerIndex + 10)  // an invalid two-byte sequence in the client id
        let error = #expect(throws: RequestDecodingError.self) { _ = try KafkaRequestFrame.decode(body) }
        #expect(error?.error == KafkaWireError(.invalidUTF8, fieldName: "RequestHeader.ClientId"))
    }

    @Test func hostileCountsAndLengthsAreRejectedWithoutAllocating() throws {
        // Metadata v12 is flexible: topics is a compact array whose count is an unsigned varint.
        let prefix = try Self.requestBody(MetadataRequest(), version: 12)
        let headerLength = prefix.readableBytes - MetadataRequest().size(version: 12)

        func decode(bodyBytes: [UInt8]) -> KafkaWireError? {
            var body = prefix.getSlice(at: 0, length: headerLength)!
            body.writeBytes(bodyBytes)
            do {
                _ = try KafkaRequestFrame.decode(body)
                return nil
            } catch {
                return error.error
            }
        }
        // 2^31 topics claimed in a 5-byte varint.
        #expect(decode(bodyBytes: [0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0])?.kind == .lengthExceedsFrame(claimed: 0x8000_0000 - 1, available: 3))
        // A varint that never ends.
        #expect(decode(bodyBytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])?.kind == .varintOverflow)
        // Non-flexible v4: an int32 count of -2 (only -1 means null).
        var v4 = try Self.requestBody(MetadataRequest(), version: 4)
        v4.moveWriterIndex(to: v4.writerIndex - 5)
        v4.writeInteger(Int32(-2))
        v4.writeInteger(UInt8(0))
        let error = #expect(throws: RequestDecodingError.self) { _ = try KafkaRequestFrame.decode(v4) }
        #expect(error?.error.kind == .negativeLength(-2))
        #expect(error?.error.field == "MetadataRequest.Topics")
    }
}
