import NIOCore

/// Writes response frames: size prefix, response header at the version the API calls for, body.
public enum KafkaResponseFrame {
    public static func encode<Response: KafkaResponse>(
        _ response: Response, version: Int16, correlationId: Int32,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(KafkaWireError) -> ByteBuffer {
        let headerVersion = Response.apiKey.responseHeaderVersion(version)
        let header = ResponseHeader(correlationId: correlationId)
        var buffer = allocator.buffer(capacity: 4 + header.size(version: headerVersion) + response.size(version: version))
        try KafkaFrame.write(into: &buffer) { (out: inout ByteBuffer) throws(KafkaWireError) in
            try header.encode(into: &out, version: headerVersion)
            try response.encode(into: &out, version: version)
        }
        return buffer
    }

    /// The answer to an ApiVersions request newer than the server knows: a v0 body with UNSUPPORTED_VERSION
    /// listing only the ApiVersions range, so the client can retry at `supported.upperBound` (KIP-511).
    public static func unsupportedApiVersions(
        correlationId: Int32, supported: ClosedRange<Int16>, allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        let response = ApiVersionsResponse(
            errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
            apiKeys: [.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: supported.lowerBound, maxVersion: supported.upperBound)]
        )
        // v0 of ApiVersionsResponse has only fixed-width fields and an int32-counted array: it cannot fail.
        return try! encode(response, version: 0, correlationId: correlationId, allocator: allocator)
    }
}
