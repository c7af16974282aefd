import Logging
import MartletProtocol
import NIOCore
import NIOPosix

/// The Kafka listener: accepts connections and serves each one's requests in order.
///
/// Per connection, frames are read by `KafkaFrameDecoder` (bounded by `socket.request.max.bytes`), at most
/// `queued.max.requests` of them wait unread-by-handlers (NIO back-pressure stops reading the socket beyond
/// that), and responses go out in request order, as Kafka promises. A connection idle for
/// `connections.max.idle.ms` is closed; connections past `max.connections` are refused.
public final class KafkaServer: Sendable {
    public struct Limits: Sendable {
        public var maximumFrameSize: Int
        public var queuedMaxRequests: Int
        public var idleTimeoutMs: Int64
        public var maximumConnections: Int

        public init(maximumFrameSize: Int, queuedMaxRequests: Int, idleTimeoutMs: Int64, maximumConnections: Int) {
            self.maximumFrameSize = maximumFrameSize
            self.queuedMaxRequests = queuedMaxRequests
            self.idleTimeoutMs = idleTimeoutMs
            self.maximumConnections = maximumConnections
        }
    }

    private let handlers: HandlerRegistry
    private let limits: Limits
    private let logger: Logger
    private let connections: ConnectionLimiter

    public init(handlers: HandlerRegistry, limits: Limits, logger: Logger) {
        self.handlers = handlers
        self.limits = limits
        self.logger = logger
        self.connections = ConnectionLimiter(maximum: limits.maximumConnections)
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, IOData>

    /// Binds `host:port` and returns the bound server channel; `serve` then runs it until cancelled.
    public func bind(host: String, port: Int, group: EventLoopGroup) async throws -> BoundListener {
        let limits = self.limits
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    let pipeline = child.pipeline.syncOperations
                    if limits.idleTimeoutMs > 0 {
                        try pipeline.addHandler(IdleStateHandler(allTimeout: .milliseconds(limits.idleTimeoutMs)))
                        try pipeline.addHandler(IdleConnectionCloser())
                    }
                    try pipeline.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: limits.maximumFrameSize)))
                    return try Connection(
                        wrappingChannelSynchronously: child,
                        configuration: .init(
                            backPressureStrategy: .init(lowWatermark: max(1, limits.queuedMaxRequests / 2), highWatermark: limits.queuedMaxRequests)
                        )
                    )
                }
            }
        return BoundListener(channel: channel, server: self)
    }

    /// A listening socket; `run()` accepts and serves connections until the task is cancelled.
    public struct BoundListener: Sendable {
        let channel: NIOAsyncChannel<Connection, Never>
        let server: KafkaServer

        public var localPort: Int? { channel.channel.localAddress?.port }

        public func run() async throws {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        guard server.connections.acquire() else {
                            server.logger.warning("refusing connection: max.connections (\(server.connections.maximum)) reached")
                            try? await connection.channel.close()
                            continue
                        }
                        group.addTask {
                            defer { server.connections.release() }
                            await server.serve(connection)
                        }
                    }
                }
            }
        }

        /// Closes the listening socket; `run()` then returns once open connections finish.
        public func close() async {
            try? await channel.channel.close()
        }
    }

    /// Serves one connection: read a frame, handle it, write the answer, in order, until the peer leaves or
    /// sends something unreadable.
    func serve(_ connection: Connection) async {
        let address = connection.channel.remoteAddress?.description ?? "unknown"
        let clientHost = "/" + (connection.channel.remoteAddress?.ipAddress ?? "")
        let allocator = connection.channel.allocator
        do {
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    guard let response = try await answer(frame, from: address, clientHost: clientHost, allocator: allocator) else { continue }
                    try await write(response, to: connection.channel)
                }
            }
        } catch let error as RequestDecodingError {
            logger.warning("closing connection from \(address): \(error)")
        } catch let error as ConnectionClosedByHandler {
            logger.debug("closing connection from \(address): \(error)")
        } catch {
            logger.debug("connection from \(address) ended: \(error)")
        }
    }

    /// Writes a response and waits until it has gone out, so that file regions are given back only once
    /// sendfile is done with them (and a slow reader holds back its own connection only).
    private func write(_ response: ResponseFrame, to channel: any Channel) async throws {
        defer { response.release() }
        for part in response.parts.dropLast() {
            channel.write(part, promise: nil)
        }
        try await channel.writeAndFlush(response.parts.last!)
        withExtendedLifetime(response.keepAlive) {}
    }

    /// The response frame for one request frame, nil when none is due (acks=0). Throws to close the connection,
    /// as Kafka does for a request it cannot read or an API or version it does not serve.
    func answer(_ frame: ByteBuffer, from address: String, clientHost: String, allocator: ByteBufferAllocator) async throws -> ResponseFrame? {
        switch try KafkaRequestFrame.decode(frame) {
        case .unsupportedApiVersions(let header):
            return ResponseFrame(KafkaResponseFrame.unsupportedApiVersions(
                correlationId: header.correlationId, supported: handlers.versions(of: .apiVersions) ?? 0...0, allocator: allocator))
        case .request(let request):
            if request.trailingBytes > 0 {
                logger.debug("\(request.apiKey.name) v\(request.apiVersion) from \(address) has \(request.trailingBytes) bytes after its body; ignored as Kafka does")
            }
            guard let handler = handlers.handler(for: request.apiKey),
                  handler.versions.contains(request.apiVersion)
            else {
                throw RequestDecodingError(
                    header: request.header,
                    error: KafkaWireError(.unsupportedVersion(apiKey: request.apiKey.rawValue, version: request.apiVersion), fieldName: "RequestHeader.RequestApiVersion")
                )
            }
            let context = RequestContext(
                apiVersion: request.apiVersion, correlationId: request.correlationId, clientId: request.header.clientId, clientAddress: address,
                clientHost: clientHost)
            return try await handler.respond(to: request.body, context: context, allocator: allocator)
        }
    }
}
