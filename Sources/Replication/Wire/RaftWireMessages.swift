import MartletProtocol
import NIOCore

/// A KRaft request as the generated Kafka message, ready to encode; one case per RPC the core sends.
public enum RaftWireRequest: Hashable, Sendable {
    case vote(VoteRequest)
    case beginQuorumEpoch(BeginQuorumEpochRequest)
    case endQuorumEpoch(EndQuorumEpochRequest)
    case fetch(FetchRequest)
    case fetchSnapshot(FetchSnapshotRequest)

    /// The generated message inside, for what every case does alike.
    private var message: any KafkaApiMessage {
        switch self {
        case .vote(let request): request
        case .beginQuorumEpoch(let request): request
        case .endQuorumEpoch(let request): request
        case .fetch(let request): request
        case .fetchSnapshot(let request): request
        }
    }

    public var apiKey: ApiKey { type(of: message).apiKey }

    /// The request body at `version` (the request header is the driver's). A pre-vote is refused below
    /// Vote v2, which would drop the flag and turn it into a real vote.
    public func encoded(version: Int16) throws(RaftWireError) -> ByteBuffer {
        if case .vote(let request) = self, version < 2, request.topics.contains(where: { $0.partitions.contains(where: \.preVote) }) {
            throw .unsupportedVersion(.vote, version)
        }
        return try RaftWireCodec.encode(message, version)
    }

    /// Reads a request body whose header said `apiKey` and `version`; the body must be used up exactly.
    public init(apiKey: ApiKey, version: Int16, body: ByteBuffer) throws(RaftWireError) {
        switch apiKey {
        case .vote: self = .vote(try RaftWireCodec.decode(VoteRequest.self, version, body))
        case .beginQuorumEpoch: self = .beginQuorumEpoch(try RaftWireCodec.decode(BeginQuorumEpochRequest.self, version, body))
        case .endQuorumEpoch: self = .endQuorumEpoch(try RaftWireCodec.decode(EndQuorumEpochRequest.self, version, body))
        case .fetch: self = .fetch(try RaftWireCodec.decode(FetchRequest.self, version, body))
        case .fetchSnapshot: self = .fetchSnapshot(try RaftWireCodec.decode(FetchSnapshotRequest.self, version, body))
        default: throw .unsupportedVersion(apiKey, version)
        }
    }
}

/// A KRaft response as the generated Kafka message; one case per RPC the core answers.
public enum RaftWireResponse: Hashable, Sendable {
    case vote(VoteResponse)
    case beginQuorumEpoch(BeginQuorumEpochResponse)
    case endQuorumEpoch(EndQuorumEpochResponse)
    case fetch(FetchResponse)
    case fetchSnapshot(FetchSnapshotResponse)

    /// The generated message inside, for what every case does alike.
    private var message: any KafkaApiMessage {
        switch self {
        case .vote(let response): response
        case .beginQuorumEpoch(let response): response
        case .endQuorumEpoch(let response): response
        case .fetch(let response): response
        case .fetchSnapshot(let response): response
        }
    }

    public var apiKey: ApiKey { type(of: message).apiKey }

    /// The response body at `version`.
    public func encoded(version: Int16) throws(RaftWireError) -> ByteBuffer {
        try RaftWireCodec.encode(message, version)
    }

    /// Reads a response body of `apiKey` at `version`; the body must be used up exactly.
    public init(apiKey: ApiKey, version: Int16, body: ByteBuffer) throws(RaftWireError) {
        switch apiKey {
        case .vote: self = .vote(try RaftWireCodec.decode(VoteResponse.self, version, body))
        case .beginQuorumEpoch: self = .beginQuorumEpoch(try RaftWireCodec.decode(BeginQuorumEpochResponse.self, version, body))
        case .endQuorumEpoch: self = .endQuorumEpoch(try RaftWireCodec.decode(EndQuorumEpochResponse.self, version, body))
        case .fetch: self = .fetch(try RaftWireCodec.decode(FetchResponse.self, version, body))
        case .fetchSnapshot: self = .fetchSnapshot(try RaftWireCodec.decode(FetchSnapshotResponse.self, version, body))
        default: throw .unsupportedVersion(apiKey, version)
        }
    }
}

/// Version checks and exact decoding shared by the request and response wrappers.
enum RaftWireCodec {
    /// The lowest version at which each RPC carries what KRaft needs: Fetch has no `LastFetchedEpoch`
    /// before v12.
    static func minimumVersion(_ api: ApiKey) -> Int16 { api == .fetch ? 12 : 0 }

    static func check<M: KafkaApiMessage>(_: M.Type, _ version: Int16) throws(RaftWireError) -> Int16 {
        guard M.validVersions.contains(version), version >= minimumVersion(M.apiKey) else {
            throw .unsupportedVersion(M.apiKey, version)
        }
        return version
    }

    static func encode<M: KafkaApiMessage>(_ message: M, _ version: Int16) throws(RaftWireError) -> ByteBuffer {
        let version = try check(M.self, version)
        do throws(KafkaWireError) {
            return try message.encoded(version: version)
        } catch {
            throw .malformed(error)
        }
    }

    static func decode<M: KafkaApiMessage>(_ type: M.Type, _ version: Int16, _ body: ByteBuffer) throws(RaftWireError) -> M {
        let version = try check(type, version)
        var buffer = body
        let message: M
        do throws(KafkaWireError) {
            message = try M(from: &buffer, version: version)
        } catch {
            throw .malformed(error)
        }
        guard buffer.readableBytes == 0 else {
            throw .malformed(KafkaWireError(.trailingBytes(buffer.readableBytes), fieldName: "\(M.self)"))
        }
        return message
    }
}
