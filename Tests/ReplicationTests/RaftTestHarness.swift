import MartletProtocol

@testable import MartletReplication

/// A few Raft nodes wired by hand for scenario tests: messages queue until delivered (a predicate can
/// drop some), flushes happen at once, and what each node applied and rejected is recorded.
struct RaftTestHarness {
    var nodes: [ReplicaID: RaftNode] = [:]
    var now: Int64 = 0
    var inFlight: [(from: ReplicaID, envelope: RaftEnvelope)] = []
    var applied: [ReplicaID: [LogEntry]] = [:]
    var rejections: [ReplicaID: [RaftRejection]] = [:]
    /// Messages matching this are dropped when delivered (a partition).
    var drop: (ReplicaID, ReplicaID, RaftMessage) -> Bool = { _, _, _ in false }
    /// Rewrites a message on its way (corruption in transit).
    var rewrite: (ReplicaID, ReplicaID, RaftMessage) -> RaftMessage = { _, _, message in message }
    /// Answers a fetch to a node that is gone with BROKER_NOT_AVAILABLE, as the driver does for a peer it
    /// cannot reach; otherwise such messages just vanish.
    var reportUnreachable = false

    init(voters: [ReplicaID], observers: [ReplicaID] = [], persisted: [ReplicaID: RaftPersistentState] = [:]) {
        for (index, id) in (voters + observers).enumerated() {
            var config = RaftConfig(nodeId: id, voters: Set(voters), observers: Set(observers))
            config.snapshotChunkBytes = 16
            nodes[id] = RaftNode(
                config: config, persisted: persisted[id] ?? RaftPersistentState(), nowMs: 0,
                random: SplitMix64(seed: UInt64(index) * 7919))
            collect(id)
        }
    }

    subscript(id: ReplicaID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    /// Takes a node's ready: queues its messages, records what it applied, flushes at once.
    mutating func collect(_ id: ReplicaID) {
        while true {
            let ready = nodes[id]!.takeReady()
            inFlight += ready.messages.map { (id, $0) }
            applied[id, default: []] += ready.committed
            rejections[id, default: []] += ready.rejections
            let appended = ready.logOperations.contains { if case .append = $0 { true } else { false } }
            guard appended else { return }
            nodes[id]!.logFlushed(ready.flushToken)
        }
    }

    /// Delivers one message directly.
    mutating func step(_ id: ReplicaID, _ message: RaftMessage, from: ReplicaID) {
        nodes[id]!.step(message, from: from)
        collect(id)
    }

    /// Delivers queued messages, in order, until none are left.
    mutating func deliverAll(limit: Int = 10_000) {
        var delivered = 0
        while !inFlight.isEmpty && delivered < limit {
            let (from, envelope) = inFlight.removeFirst()
            delivered += 1
            if nodes[envelope.to] == nil, reportUnreachable, nodes[from] != nil, case .fetch(let fetch) = envelope.message {
                let failure = RaftFetchResponse(
                    error: .brokerNotAvailable, epoch: nodes[from]!.epoch, leaderId: nil, fetchOffset: fetch.fetchOffset,
                    lastFetchedEpoch: fetch.lastFetchedEpoch)
                step(from, .fetchResponse(failure), from: envelope.to)
                continue
            }
            guard nodes[envelope.to] != nil, !drop(from, envelope.to, envelope.message) else { continue }
            step(envelope.to, rewrite(from, envelope.to, envelope.message), from: from)
        }
    }

    /// Advances the clock in 10 ms steps, ticking every node and delivering everything each step.
    mutating func run(forMs duration: Int64) {
        let end = now + duration
        while now < end {
            now += 10
            for id in nodes.keys.sorted() {
                nodes[id]!.tick(nowMs: now)
                collect(id)
            }
            deliverAll()
        }
    }

    var leaders: [ReplicaID] { nodes.keys.sorted().filter { nodes[$0]!.role == .leader } }

    /// Runs until exactly one leader exists; returns it.
    mutating func electLeader(maxMs: Int64 = 10_000) -> ReplicaID? {
        let end = now + maxMs
        while now < end {
            run(forMs: 10)
            if leaders.count == 1 { return leaders[0] }
        }
        return nil
    }
}
