import NIOCore

/// A request frame read into its header and typed body.
public struct KafkaRequestFrame: Sendable {
    public var header: RequestHeader
    public var apiKey: ApiKey
    public var body: any KafkaRequest
    /// Bytes after the body. Kafka ignores them (its parser never checks), and librdkafka 2.16 sends three
    /// after an all-topics Metadata v12 request, so they are tolerated and reported, not refused.
    public var trailingBytes: Int

    public var apiVersion: Int16 { header.requestApiVersion }
    public var correlationId: Int32 { header.correlationId }
}

/// What a request frame turned out to be.
public enum DecodedRequestFrame: Sendable {
    /// A request this build can read.
    case request(KafkaRequestFrame)
    /// An ApiVersions request newer than this build knows. Kafka answers it with a v0 body carrying
    /// UNSUPPORTED_VERSION and its ApiVersions range, so the client retries at a version both know (KIP-511).
    case unsupportedApiVersions(RequestHeader)
}

/// Why a frame could not be read; carries the header when it was read, so the server can log the client and
/// correlation id (or answer, where Kafka answers) before closing the connection.
public struct RequestDecodingError: Error, Sendable, CustomStringConvertible {
    public var header: RequestHeader?
    public var error: KafkaWireError

    public init(header: RequestHeader?, error: KafkaWireError) {
        self.header = header
        self.error = error
    }

    public var description: String {
        guard let header else { return "unreadable request header: \(error)" }
        return "request api_key=\(header.requestApiKey) v\(header.requestApiVersion) correlation_id=\(header.correlationId) "
            + "client_id=\(header.clientId ?? "null"): \(error)"
    }
}

extension KafkaRequestFrame {
    /// Reads a frame body (size prefix already removed): the header at the version the API and its version
    /// call for, then the request body.
    public static func decode(_ frame: ByteBuffer) throws(RequestDecodingError) -> DecodedRequestFrame {
        var buffer = frame
        guard let rawKey = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int16.self),
              let version = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .big, as: Int16.self)
        else {
            throw RequestDecodingError(header: nil, error: KafkaWireError(.truncated(needed: 4, available: buffer.readableBytes), field: "RequestHeader"))
        }
        let apiKey = ApiKey(rawValue: rawKey)
        let headerVersion = apiKey?.requestHeaderVersion(version) ?? 1
        let header: RequestHeader
        do throws(KafkaWireError) {
            header = try RequestHeader(from: &buffer, version: headerVersion)
        } catch {
            throw RequestDecodingError(header: nil, error: error)
        }
        guard let apiKey else {
            throw RequestDecodingError(header: header, error: KafkaWireError(.unknownApiKey(rawKey), field: "RequestHeader.RequestApiKey"))
        }
        let requestType = apiKey.requestType
        guard requestType.validVersions.contains(version) else {
            if apiKey == .apiVersions && version > requestType.validVersions.upperBound {
                return .unsupportedApiVersions(header)
            }
            throw RequestDecodingError(
                header: header,
                error: KafkaWireError(.unsupportedVersion(apiKey: rawKey, version: version), field: "RequestHeader.RequestApiVersion")
            )
        }
        do throws(KafkaWireError) {
            let body = try requestType.init(from: &buffer, version: version)
            return .request(KafkaRequestFrame(header: header, apiKey: apiKey, body: body, trailingBytes: buffer.readableBytes))
        } catch {
            throw RequestDecodingError(header: header, error: error)
        }
    }
}
