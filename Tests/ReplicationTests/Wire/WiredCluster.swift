import MartletProtocol
import NIOCore

@testable import MartletReplication

/// Raft nodes that talk only in Kafka bytes, as drivers would: every request the core sends is mapped to
/// its Kafka request, encoded at the negotiated version and decoded and mapped back on the receiver; a
/// response is tagged with the correlation id of the request it answers, and the requester pairs it
/// with the core request it kept under that id. Flushes happen at once; `drop` cuts links.
struct WiredCluster {
    enum Frame {
        case request(correlationId: Int, apiKey: ApiKey, version: Int16, body: ByteBuffer)
        case response(correlationId: Int, apiKey: ApiKey, version: Int16, body: ByteBuffer)
    }

    var nodes: [ReplicaID: RaftNode] = [:]
    var versions = RaftWireVersions.kafka40
    var now: Int64 = 0
    var queue: [(from: ReplicaID, to: ReplicaID, frame: Frame)] = []
    /// Requests in flight, by correlation id: the core request each response must be paired with.
    var pending: [Int: RaftMessage] = [:]
    var nextCorrelationId = 0
    var applied: [ReplicaID: [LogEntry]] = [:]
    var rejections: [ReplicaID: [RaftRejection]] = [:]
    /// How many frames of each API crossed the wire.
    var framesByApi: [ApiKey: Int] = [:]
    /// Pre-vote requests that arrived as such.
    var preVotesDelivered = 0
    var drop: (ReplicaID, ReplicaID) -> Bool = { _, _ in false }

    init(voters: [ReplicaID], versions: RaftWireVersions = .kafka40, snapshotChunkBytes: Int = 1024) throws {
        self.versions = versions
        for (index, id) in voters.enumerated() {
            var config = RaftConfig(nodeId: id, voters: Set(voters))
            config.snapshotChunkBytes = snapshotChunkBytes
            nodes[id] = RaftNode(config: config, persisted: RaftPersistentState(), nowMs: 0, random: SplitMix64(seed: UInt64(index) * 7919))
            try collect(id, answering: nil)
        }
    }

    subscript(id: ReplicaID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    var leaders: [ReplicaID] { nodes.keys.sorted().filter { nodes[$0]!.role == .leader } }

    static func isResponse(_ message: RaftMessage) -> Bool {
        switch message {
        case .voteResponse, .beginQuorumEpochResponse, .endQuorumEpochResponse, .fetchResponse, .fetchSnapshotResponse: true
        case .vote, .beginQuorumEpoch, .endQuorumEpoch, .fetch, .fetchSnapshot: false
        }
    }

    /// Takes a node's ready and puts its messages on the wire. The responses in it answer the request
    /// with `correlationId` (a node answers a request as it handles it).
    mutating func collect(_ id: ReplicaID, answering correlationId: Int?) throws {
        let context = WireTest.context(id, voters: nodes.keys.sorted())
        while true {
            let ready = nodes[id]!.takeReady()
            for envelope in ready.messages {
                if Self.isResponse(envelope.message) {
                    guard let correlationId else { throw WireTestError.missing }
                    let response = try RaftWire.response(envelope.message, context: context, recordTimestamp: now)
                    let version = versions.version(for: response.apiKey)!
                    queue.append((id, envelope.to, .response(correlationId: correlationId, apiKey: response.apiKey, version: version, body: try response.encoded(version: version))))
                } else {
                    let request = try RaftWire.request(envelope.message, to: envelope.to, context: context, versions: versions)
                    let version = versions.version(for: request.apiKey)!
                    nextCorrelationId += 1
                    pending[nextCorrelationId] = envelope.message
                    queue.append((id, envelope.to, .request(correlationId: nextCorrelationId, apiKey: request.apiKey, version: version, body: try request.encoded(version: version))))
                }
            }
            applied[id, default: []] += ready.committed
            rejections[id, default: []] += ready.rejections
            let appended = ready.logOperations.contains { if case .append = $0 { true } else { false } }
            guard appended else { return }
            nodes[id]!.logFlushed(ready.flushToken)
        }
    }

    /// Delivers queued frames, in order, until none are left: each is decoded from its bytes alone (and
    /// the kept request, for a response) and stepped into its receiver.
    mutating func deliverAll() throws {
        while !queue.isEmpty {
            let (from, to, frame) = queue.removeFirst()
            switch frame {
            case .request(let correlationId, let apiKey, let version, let body):
                framesByApi[apiKey, default: 0] += 1
                guard !drop(from, to) else { continue }
                let request = try RaftWireRequest(apiKey: apiKey, version: version, body: body)
                let inbound = try RaftWire.inbound(request, version: version, context: WireTest.context(to, voters: nodes.keys.sorted()))
                guard inbound.from == from else { throw WireTestError.missing }
                if case .vote(let vote) = inbound.message, vote.preVote { preVotesDelivered += 1 }
                nodes[to]!.step(inbound.message, from: inbound.from)
                try collect(to, answering: correlationId)
            case .response(let correlationId, let apiKey, let version, let body):
                framesByApi[apiKey, default: 0] += 1
                guard let request = pending.removeValue(forKey: correlationId), !drop(from, to) else { continue }
                let response = try RaftWireResponse(apiKey: apiKey, version: version, body: body)
                nodes[to]!.step(try RaftWire.message(from: response, answering: request, version: version), from: from)
                try collect(to, answering: nil)
            }
        }
    }

    /// Advances the clock in 10 ms steps, ticking every node and delivering everything each step.
    mutating func run(forMs duration: Int64) throws {
        let end = now + duration
        while now < end {
            now += 10
            for id in nodes.keys.sorted() {
                nodes[id]!.tick(nowMs: now)
                try collect(id, answering: nil)
            }
            try deliverAll()
        }
    }

    mutating func electLeader(maxMs: Int64 = 10_000) throws -> ReplicaID? {
        let end = now + maxMs
        while now < end {
            try run(forMs: 10)
            if leaders.count == 1 { return leaders[0] }
        }
        return nil
    }
}
