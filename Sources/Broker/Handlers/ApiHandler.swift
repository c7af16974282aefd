import MartletProtocol
import NIOCore

/// Who sent a request, for handlers that care (logging, quotas, replica fetches later).
public struct RequestContext: Sendable {
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    public var clientAddress: String
    /// The peer's IP address as Kafka shows a client's host (DescribeGroups): "/" + ip.
    public var clientHost: String = "/"
}

/// What a handler produces: a response body, nothing (Produce with acks=0 sends no response), or the end of
/// the connection (how Kafka tells an acks=0 producer that a write failed, so it refreshes its metadata).
public enum HandlerOutcome<Response: KafkaResponse>: Sendable {
    case respond(Response)
    case noResponse
    case closeConnection(reason: String)
}

/// Thrown to the server to close a connection on purpose; the reason is logged.
struct ConnectionClosedByHandler: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// The handler of one Kafka API: one file per API key under Handlers/, listed in `HandlerRegistry`.
public protocol ApiHandler: Sendable {
    associatedtype Request: KafkaRequest

    /// The versions this handler implements and ApiVersions advertises.
    var versions: ClosedRange<Int16> { get }

    func handle(_ request: Request, context: RequestContext) async -> HandlerOutcome<Request.Response>

    /// Runs the handler on a decoded body and encodes the response frame (size prefix, header, body).
    /// Fetch overrides it to send records from the log files.
    func respond(to body: any KafkaRequest, context: RequestContext, allocator: ByteBufferAllocator) async throws -> ResponseFrame?
}

extension ApiHandler {
    /// The API key, from the request type.
    public var apiKey: ApiKey { Request.apiKey }

    func request(from body: any KafkaRequest) -> Request {
        guard let request = body as? Request else {
            preconditionFailure("\(Request.self) handler given \(type(of: body))")
        }
        return request
    }

    public func respond(to body: any KafkaRequest, context: RequestContext, allocator: ByteBufferAllocator) async throws -> ResponseFrame? {
        switch await handle(request(from: body), context: context) {
        case .noResponse:
            return nil
        case .closeConnection(let reason):
            throw ConnectionClosedByHandler(reason: reason)
        case .respond(let response):
            return ResponseFrame(try KafkaResponseFrame.encode(
                response, version: context.apiVersion, correlationId: context.correlationId, allocator: allocator))
        }
    }
}
