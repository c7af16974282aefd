import MartletProtocol
import NIOCore
import NIOPosix

/// Why a request got no response.
public enum KafkaConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The last connection attempt failed or the connection dropped recently; no new attempt before the
    /// backoff has passed (Kafka's `reconnect.backoff.ms`), so an unreachable peer costs nothing per request.
    case backingOff(host: String, port: Int)
    /// No response within the request's timeout.
    case timedOut(ApiKey, correlationId: Int32)
    /// The connection closed with the request in flight.
    case closed
    /// The response did not parse as the response header (or did not answer a request in flight).
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .backingOff(let host, let port): "\(host):\(port) is unreachable, backing off"
        case .timedOut(let api, let correlationId): "\(api.name) request \(correlationId) timed out"
        case .closed: "connection closed"
        case .malformedResponse(let why): "malformed response: \(why)"
        }
    }
}

/// One client connection to a Kafka node, the start of Martlet's own client: requests go out as
/// size-prefixed frames with fresh correlation ids, responses are matched to them by correlation id (so
/// several may be in flight), each request fails after its timeout, and a lost connection is re-opened on
/// the next request after a backoff that doubles up to a maximum (Kafka's `reconnect.backoff.ms` and
/// `reconnect.backoff.max.ms`).
public actor KafkaConnection {
    public nonisolated let host: String
    public nonisolated let port: Int
    private let clientId: String
    private let group: any EventLoopGroup
    private let minimumBackoffMs: Int64
    private let maximumBackoffMs: Int64
    private var channel: (any Channel)?
    private var connecting: Task<any Channel, any Error>?
    private var backoffMs: Int64
    private var retryAfter: ContinuousClock.Instant?
    private var nextCorrelationId: Int32 = 0

    public init(
        host: String, port: Int, clientId: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        minimumBackoffMs: Int64 = 50, maximumBackoffMs: Int64 = 1000
    ) {
        self.host = host
        self.port = port
        self.clientId = clientId
        self.group = group
        self.minimumBackoffMs = minimumBackoffMs
        self.maximumBackoffMs = maximumBackoffMs
        self.backoffMs = minimumBackoffMs
    }

    /// Sends one request body (without header) and returns the response body (without header).
    public func send(apiKey: ApiKey, version: Int16, body: ByteBuffer, timeoutMs: Int64) async throws -> ByteBuffer {
        let channel = try await connected()
        nextCorrelationId = nextCorrelationId == Int32.max ? 0 : nextCorrelationId + 1
        let header = RequestHeader(
            requestApiKey: apiKey.rawValue, requestApiVersion: version, correlationId: nextCorrelationId, clientId: clientId)
        var frame = channel.allocator.buffer(capacity: 4 + header.size(version: apiKey.requestHeaderVersion(version)) + body.readableBytes)
        try KafkaFrame.write(into: &frame) { (out: inout ByteBuffer) throws(KafkaWireError) in
            try header.encode(into: &out, version: apiKey.requestHeaderVersion(version))
            out.writeImmutableBuffer(body)
        }
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let request = OutboundKafkaRequest(
            correlationId: nextCorrelationId, apiKey: apiKey, version: version, frame: frame, timeoutMs: timeoutMs, promise: promise)
        channel.writeAndFlush(request, promise: nil)
        return try await promise.futureResult.get()
    }

    /// Sends a typed request and decodes its response.
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16, timeoutMs: Int64) async throws -> Request.Response {
        var body = try await send(apiKey: Request.apiKey, version: version, body: try request.encoded(version: version), timeoutMs: timeoutMs)
        return try Request.Response(from: &body, version: version)
    }

    /// Closes the connection; a later request opens a new one.
    public func close() async {
        connecting?.cancel()
        connecting = nil
        if let channel { try? await channel.close() }
        channel = nil
    }

    private func connected() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        if channel != nil { failed() }
        if let connecting { return try await connecting.value }
        if let retryAfter, ContinuousClock.now < retryAfter { throw KafkaConnectionError.backingOff(host: host, port: port) }
        let (host, port, group) = (self.host, self.port, self.group)
        let task = Task<any Channel, any Error> {
            try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(2))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(ResponseMatcher())
                    }
                }
                .connect(host: host, port: port).get()
        }
        connecting = task
        defer { connecting = nil }
        do {
            let channel = try await task.value
            self.channel = channel
            backoffMs = minimumBackoffMs
            retryAfter = nil
            return channel
        } catch {
            failed()
            throw error
        }
    }

    /// Forgets the connection and waits out a doubled backoff before the next attempt.
    private func failed() {
        channel = nil
        retryAfter = ContinuousClock.now + .milliseconds(backoffMs)
        backoffMs = min(maximumBackoffMs, backoffMs * 2)
    }
}

/// A framed request on its way out, with what is needed to match and time out its response.
struct OutboundKafkaRequest: Sendable {
    var correlationId: Int32
    var apiKey: ApiKey
    var version: Int16
    var frame: ByteBuffer
    var timeoutMs: Int64
    var promise: EventLoopPromise<ByteBuffer>
}
