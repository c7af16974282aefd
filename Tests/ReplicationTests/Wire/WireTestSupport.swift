import MartletProtocol
import NIOCore

@testable import MartletReplication

/// Contexts and byte-level round trips shared by the wire tests: every message goes core → generated
/// type → bytes (the generated codec) → generated type → core, as a driver would send it.
enum WireTest {
    static let clusterId = "martlet-test-cluster"

    static func endpoints(_ ids: [ReplicaID]) -> [ReplicaID: [RaftEndpoint]] {
        Dictionary(uniqueKeysWithValues: ids.map { ($0, [RaftEndpoint(listener: "CONTROLLER", host: "controller-\($0)", port: UInt16(9000 + $0))]) })
    }

    static func context(_ id: ReplicaID, voters: [ReplicaID] = [1, 2, 3]) -> RaftWireContext {
        RaftWireContext(localId: id, clusterId: clusterId, endpoints: endpoints(voters))
    }

    /// A core request sent from `from` to `to` and read back on `to`.
    static func request(
        _ message: RaftMessage, from: ReplicaID, to: ReplicaID, versions: RaftWireVersions = .kafka40
    ) throws -> RaftInbound {
        let request = try RaftWire.request(message, to: to, context: context(from), versions: versions)
        let version = try require(versions.version(for: request.apiKey))
        let body = try request.encoded(version: version)
        let decoded = try RaftWireRequest(apiKey: request.apiKey, version: version, body: body)
        return try RaftWire.inbound(decoded, version: version, context: context(to))
    }

    /// A core response sent by `from` and read back by the requester, which pairs it with `request`.
    static func response(
        _ message: RaftMessage, answering request: RaftMessage, from: ReplicaID, versions: RaftWireVersions = .kafka40
    ) throws -> RaftMessage {
        let response = try RaftWire.response(message, context: context(from))
        let version = try require(versions.version(for: response.apiKey))
        let body = try response.encoded(version: version)
        let decoded = try RaftWireResponse(apiKey: response.apiKey, version: version, body: body)
        return try RaftWire.message(from: decoded, answering: request, version: version)
    }
}

/// `#require` outside a test function's body, for the helpers.
private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw WireTestError.missing }
    return value
}

enum WireTestError: Error { case missing }
