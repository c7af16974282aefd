import MartletReplication

/// An invariant the simulation found broken.
struct SimulationFailure: Error, CustomStringConvertible {
    var seed: UInt64
    var timeMs: Int64
    var message: String

    var description: String {
        "simulation seed \(seed) failed at \(timeMs) ms: \(message) (replay: MARTLET_SIM_SEED=\(seed))"
    }
}

/// What one seed's run amounted to, for the summary line.
struct SimulationStats {
    var simulatedMs: Int64 = 0
    var events = 0
    var committed = 0
    var elections = 0
    var crashes = 0
    var snapshotsInstalled = 0
    var rejections = 0
}

/// One node's disk: the quorum state and snapshot are written synchronously; log writes sit in the page
/// cache (`written`) until a flush makes them `durable`. A crash keeps only the durable part.
struct SimDisk {
    var quorumState = QuorumState()
    var snapshot: RaftSnapshot?
    var durable: [LogEntry] = []
    var written: [LogEntry] = []
    /// The offset of the first entry in `durable` and `written`.
    var base: Int64 = 0
}

/// One controller: its Raft core (nil while crashed), disk, and the state machine it applies to — a
/// count and a running hash of the applied entries.
final class SimNode {
    let id: ReplicaID
    var raft: RaftNode?
    var disk = SimDisk()
    var incarnation = 0
    var appliedOffset: Int64 = 0
    var appliedHash: UInt64 = 0
    var lastHighWatermark: Int64 = 0
    var wasLeaderInEpoch: Int32?
    /// Role and epoch as last traced.
    var tracedState: String = ""

    init(id: ReplicaID) { self.id = id }
}

/// N controllers in one process over a simulated network, clock and disk, all driven by one seed:
/// message loss, delay, reordering and duplication, partitions, crashes that lose unflushed writes,
/// restarts and snapshots, while clients propose. Invariants are checked after every event.
final class SimCluster {
    enum Event {
        case deliver(from: ReplicaID, to: ReplicaID, message: RaftMessage)
        case tick(ReplicaID)
        case flush(ReplicaID, incarnation: Int, token: LogFlushToken)
        case chaos
        case propose
        case restart(ReplicaID)
        case heal
    }

    let seed: UInt64
    var random: SplitMix64
    let config: RaftConfig
    var nodes: [ReplicaID: SimNode] = [:]
    let ids: [ReplicaID]
    var queue = EventQueue<Event>()
    var now: Int64 = 0
    var stats = SimulationStats()

    // The network's weather.
    var dropRate: Double
    var duplicateRate: Double
    var maxDelayMs: Int64
    /// Node -> side of the partition; nodes on different sides cannot talk.
    var partition: [ReplicaID: Int] = [:]
    var healed = false

    // The truth the invariants are checked against.
    /// Which node led each epoch.
    var leaders: [Int32: ReplicaID] = [:]
    /// Every entry ever appended anywhere, by (offset, epoch): payload and the epoch before it.
    var appended: [OffsetAndEpoch: (payload: EntryPayload, previousEpoch: Int32?)] = [:]
    /// The committed log as first applied by any node, and the running hash before each offset.
    var committed: [LogEntry] = []
    var committedHashes: [UInt64] = [0]

    // Clients.
    var nextPayload: UInt64 = 0
    /// Payloads proposed after healing, with the time they were last proposed; committed ones leave.
    var pendingAfterHeal: [UInt64: Int64] = [:]
    var committedPayloads: Set<UInt64> = []

    let durationMs: Int64
    let healAtMs: Int64
    let tickMs: Int64 = 20
    /// Prints every node's role changes and the faults (MARTLET_SIM_TRACE=1, when replaying a seed).
    let trace: Bool

    init(seed: UInt64, voters: Int, durationMs: Int64, trace: Bool = false) {
        self.seed = seed
        self.trace = trace
        random = SplitMix64(seed: seed)
        ids = (1...Int32(voters)).map { $0 }
        var config = RaftConfig(nodeId: 0, voters: Set(ids))
        // Kafka's defaults scaled down five times, so a few simulated seconds hold many elections.
        config.electionTimeoutMs = 200
        config.electionBackoffMaxMs = 200
        config.fetchTimeoutMs = 400
        config.requestTimeoutMs = 100
        config.fetchIdleIntervalMs = 50
        config.fetchErrorBackoffMs = 50
        config.idleIntervalMs = 100
        config.fetchMaxBytes = 64
        config.snapshotChunkBytes = 48
        self.config = config
        self.durationMs = durationMs
        healAtMs = durationMs * 7 / 10
        dropRate = Double.random(in: 0...0.1, using: &random)
        duplicateRate = Double.random(in: 0...0.05, using: &random)
        maxDelayMs = Int64.random(in: 1...40, using: &random)
        for id in ids {
            nodes[id] = SimNode(id: id)
            start(id)
            queue.push(.tick(id), at: Int64.random(in: 0..<tickMs, using: &random))
        }
        queue.push(.chaos, at: 300)
        queue.push(.propose, at: 50)
        queue.push(.heal, at: healAtMs)
    }

    // MARK: Running

    func run() throws(SimulationFailure) {
        while let (time, event) = queue.pop(), time <= durationMs {
            now = time
            stats.events += 1
            try handle(event)
        }
        now = durationMs
        stats.simulatedMs = durationMs
        try checkLiveness()
    }

    private func handle(_ event: Event) throws(SimulationFailure) {
        switch event {
        case .deliver(let from, let to, let message):
            guard let node = nodes[to], node.raft != nil, canTalk(from, to) else { return }
            node.raft!.tick(nowMs: now)
            node.raft!.step(message, from: from)
            try process(node)
        case .tick(let id):
            queue.push(.tick(id), at: now + tickMs)
            guard let node = nodes[id], node.raft != nil else { return }
            node.raft!.tick(nowMs: now)
            try process(node)
        case .flush(let id, let incarnation, let token):
            guard let node = nodes[id], node.raft != nil, node.incarnation == incarnation else { return }
            node.disk.durable = node.disk.written
            node.raft!.logFlushed(token)
            try process(node)
        case .restart(let id):
            guard let node = nodes[id], node.raft == nil else { return }
            start(id)
            try process(node)
        case .chaos:
            try chaos()
        case .propose:
            try propose()
        case .heal:
            if trace { print("\(now) ms heal") }
            healed = true
            partition = [:]
            dropRate = 0
            duplicateRate = 0
            for id in ids where nodes[id]!.raft == nil { queue.push(.restart(id), at: now) }
        }
    }

    private func canTalk(_ a: ReplicaID, _ b: ReplicaID) -> Bool {
        partition[a, default: 0] == partition[b, default: 0]
    }

    /// Starts (or restarts) a node from its disk; its state machine reloads from the snapshot.
    private func start(_ id: ReplicaID) {
        let node = nodes[id]!
        var config = self.config
        config.nodeId = id
        let persisted = RaftPersistentState(quorumState: node.disk.quorumState, snapshot: node.disk.snapshot, entries: node.disk.durable)
        node.raft = RaftNode(config: config, persisted: persisted, nowMs: now, random: SplitMix64(seed: random.next()))
        node.incarnation += 1
        node.disk.written = node.disk.durable
        (node.appliedOffset, node.appliedHash) = node.disk.snapshot.map(Self.decodeSnapshot) ?? (0, 0)
        node.lastHighWatermark = node.raft!.highWatermark
        node.wasLeaderInEpoch = nil
    }

    private func crash(_ id: ReplicaID) {
        let node = nodes[id]!
        guard node.raft != nil else { return }
        if trace { print("\(now) ms crash \(id)") }
        node.raft = nil
        node.incarnation += 1
        node.disk.written = node.disk.durable
        stats.crashes += 1
    }

    // MARK: The driver

    /// Does what the core asked, in `RaftReady`'s order, checking invariants along the way.
    private func process(_ node: SimNode) throws(SimulationFailure) {
        let ready = node.raft!.takeReady()
        if let state = ready.quorumState { node.disk.quorumState = state }
        var appendedAny = false
        for operation in ready.logOperations {
            switch operation {
            case .truncate(let from):
                let keep = Int(from - node.disk.base)
                node.disk.written.removeLast(max(0, node.disk.written.count - keep))
                node.disk.durable.removeLast(max(0, node.disk.durable.count - keep))
            case .append(let entries):
                for entry in entries {
                    try checkAppend(entry, previousEpoch: previousEpoch(node, before: entry.offset), on: node)
                    guard entry.offset == node.disk.base + Int64(node.disk.written.count) else {
                        throw fail("node \(node.id) appended \(entry.offset) to a disk log ending at \(node.disk.base + Int64(node.disk.written.count))")
                    }
                    node.disk.written.append(entry)
                }
                appendedAny = true
            case .installSnapshot(let snapshot):
                let (offset, hash) = Self.decodeSnapshot(snapshot)
                guard offset == snapshot.id.offset, offset <= Int64(committed.count), committedHashes[Int(offset)] == hash else {
                    throw fail("node \(node.id) installed snapshot \(snapshot.id) that is not a committed prefix")
                }
                node.disk.snapshot = snapshot
                node.disk.written = []
                node.disk.durable = []
                node.disk.base = offset
                (node.appliedOffset, node.appliedHash) = (offset, hash)
                stats.snapshotsInstalled += 1
            case .deletePrefix(let before):
                guard node.disk.snapshot?.id.offset == before else {
                    throw fail("node \(node.id) deletes the log below \(before) without a snapshot there")
                }
                let drop = Int(before - node.disk.base)
                node.disk.written.removeFirst(min(drop, node.disk.written.count))
                node.disk.durable.removeFirst(min(drop, node.disk.durable.count))
                node.disk.base = before
            }
        }
        for envelope in ready.messages { send(envelope.message, from: node.id, to: envelope.to) }
        for entry in ready.committed { try apply(entry, on: node) }
        stats.rejections += ready.rejections.count
        if appendedAny {
            queue.push(.flush(node.id, incarnation: node.incarnation, token: ready.flushToken), at: now + Int64.random(in: 0...5, using: &random))
        }
        try checkNode(node)
    }

    private func previousEpoch(_ node: SimNode, before offset: Int64) -> Int32? {
        if offset == 0 { return nil }
        if let entry = node.raft!.entry(at: offset - 1) { return entry.epoch }
        if let snapshot = node.disk.snapshot, snapshot.id.offset == offset { return snapshot.id.epoch }
        return nil
    }

    private func send(_ message: RaftMessage, from: ReplicaID, to: ReplicaID) {
        guard canTalk(from, to), Double.random(in: 0..<1, using: &random) >= dropRate else { return }
        queue.push(.deliver(from: from, to: to, message: message), at: now + Int64.random(in: 1...maxDelayMs, using: &random))
        if Double.random(in: 0..<1, using: &random) < duplicateRate {
            queue.push(.deliver(from: from, to: to, message: message), at: now + Int64.random(in: 1...(3 * maxDelayMs), using: &random))
        }
    }

    // MARK: Invariants

    func fail(_ message: String) -> SimulationFailure {
        SimulationFailure(seed: seed, timeMs: now, message: message)
    }

    /// Log matching: an (offset, epoch) names one entry everywhere, and the same predecessor epoch, so by
    /// induction two logs agreeing on an entry agree on everything before it.
    private func checkAppend(_ entry: LogEntry, previousEpoch: Int32?, on node: SimNode) throws(SimulationFailure) {
        let key = OffsetAndEpoch(offset: entry.offset, epoch: entry.epoch)
        if let known = appended[key] {
            guard known.payload == entry.payload else { throw fail("node \(node.id): two different entries at \(key)") }
            if let previousEpoch, let knownPrevious = known.previousEpoch, previousEpoch != knownPrevious {
                throw fail("node \(node.id): entry \(key) follows epoch \(previousEpoch), elsewhere \(knownPrevious)")
            }
            if known.previousEpoch == nil, let previousEpoch { appended[key] = (entry.payload, previousEpoch) }
        } else {
            appended[key] = (entry.payload, previousEpoch)
        }
    }

    /// Every node applies the committed log in the same order, without gaps; the first application of an
    /// offset anywhere fixes what is committed there for good.
    private func apply(_ entry: LogEntry, on node: SimNode) throws(SimulationFailure) {
        guard entry.offset == node.appliedOffset else {
            throw fail("node \(node.id) applies offset \(entry.offset), expected \(node.appliedOffset)")
        }
        let index = Int(entry.offset)
        if index < committed.count {
            guard committed[index] == entry else {
                throw fail("node \(node.id) applies \(entry) at \(index), committed there is \(committed[index])")
            }
        } else {
            committed.append(entry)
            committedHashes.append(Self.hash(committedHashes[index], entry))
            stats.committed += 1
            if case .data(let bytes) = entry.payload {
                let id = Self.payloadId(bytes)
                committedPayloads.insert(id)
                pendingAfterHeal[id] = nil
            }
        }
        node.appliedOffset += 1
        node.appliedHash = Self.hash(node.appliedHash, entry)
        guard node.appliedHash == committedHashes[index + 1] else { throw fail("node \(node.id) state diverged at \(index)") }
    }

    private func checkNode(_ node: SimNode) throws(SimulationFailure) {
        guard let raft = node.raft else { return }
        if trace {
            let state = "\(raft.role) epoch \(raft.epoch) leader \(raft.quorumState.leaderId.map(String.init) ?? "-") voted \(raft.quorumState.votedFor.map(String.init) ?? "-") log \(raft.logStartOffset)..<\(raft.logEndOffset)@\(raft.lastEpoch)"
            if state != node.tracedState {
                print("\(now) ms node \(node.id): \(state) hw \(raft.highWatermark)")
                node.tracedState = state
            }
        }
        guard raft.highWatermark >= node.lastHighWatermark else {
            throw fail("node \(node.id) high watermark went back from \(node.lastHighWatermark) to \(raft.highWatermark)")
        }
        node.lastHighWatermark = raft.highWatermark
        guard raft.role == .leader, node.wasLeaderInEpoch != raft.epoch else { return }
        node.wasLeaderInEpoch = raft.epoch
        stats.elections += 1
        if let other = leaders[raft.epoch], other != node.id {
            throw fail("two leaders in epoch \(raft.epoch): \(other) and \(node.id)")
        }
        leaders[raft.epoch] = node.id
        // Leader completeness: a new leader holds every committed entry (in its log or its snapshot).
        guard raft.logEndOffset >= Int64(committed.count) else {
            throw fail("leader \(node.id) of epoch \(raft.epoch) ends at \(raft.logEndOffset), \(committed.count) entries are committed")
        }
        for offset in raft.logStartOffset..<Int64(committed.count) where raft.entry(at: offset) != committed[Int(offset)] {
            throw fail("leader \(node.id) of epoch \(raft.epoch) lost committed entry \(offset)")
        }
    }

    /// After healing: a leader exists, every proposal made since is committed, and every node applied them.
    private func checkLiveness() throws(SimulationFailure) {
        guard let leader = ids.compactMap({ nodes[$0]!.raft }).filter({ $0.role == .leader }).max(by: { $0.epoch < $1.epoch }) else {
            throw fail("no leader \(durationMs - healAtMs) ms after healing")
        }
        guard pendingAfterHeal.isEmpty else {
            throw fail("\(pendingAfterHeal.count) proposals made after healing are not committed (leader \(leader.nodeId), epoch \(leader.epoch))")
        }
        for id in ids where nodes[id]!.appliedOffset < Int64(committedAtProposalStop) {
            throw fail("node \(id) applied \(nodes[id]!.appliedOffset) of the \(committedAtProposalStop) entries committed when proposals stopped")
        }
    }

    var committedAtProposalStop = 0

    // MARK: Faults and clients

    private func chaos() throws(SimulationFailure) {
        guard !healed else { return }
        queue.push(.chaos, at: now + Int64.random(in: 100...700, using: &random))
        let action = Int.random(in: 0..<10, using: &random)
        if trace { print("\(now) ms chaos \(action), partition \(partition.keys.sorted())") }
        switch action {
        case 0, 1:
            // Split the nodes into two random sides (possibly isolating one, possibly a minority leader).
            partition = [:]
            for id in ids where Bool.random(using: &random) { partition[id] = 1 }
        case 2, 3:
            partition = [:]
        case 4, 5:
            let id = ids.randomElement(using: &random)!
            crash(id)
            queue.push(.restart(id), at: now + Int64.random(in: 50...1500, using: &random))
        case 6:
            // Crash the leader in particular: the most disruptive crash.
            if let leader = ids.first(where: { nodes[$0]!.raft?.role == .leader }) {
                crash(leader)
                queue.push(.restart(leader), at: now + Int64.random(in: 50...1500, using: &random))
            }
        case 7:
            if let leader = ids.first(where: { nodes[$0]!.raft?.role == .leader }) {
                nodes[leader]!.raft!.resign()
                try process(nodes[leader]!)
            }
        default:
            try takeSnapshot(on: ids.randomElement(using: &random)!)
        }
    }

    /// The node's state machine writes a snapshot of what it applied (durably) and tells the core.
    private func takeSnapshot(on id: ReplicaID) throws(SimulationFailure) {
        let node = nodes[id]!
        guard let raft = node.raft, node.appliedOffset > raft.logStartOffset,
            let last = raft.entry(at: node.appliedOffset - 1)
        else { return }
        let snapshot = Self.encodeSnapshot(offset: node.appliedOffset, epoch: last.epoch, hash: node.appliedHash)
        let previous = node.disk.snapshot
        node.disk.snapshot = snapshot
        guard node.raft!.snapshotCreated(snapshot) else {
            node.disk.snapshot = previous
            return
        }
        try process(node)
    }

    private func propose() throws(SimulationFailure) {
        let stopAt = durationMs - 1500
        if now >= stopAt {
            if committedAtProposalStop == 0 { committedAtProposalStop = committed.count }
            return
        }
        queue.push(.propose, at: now + Int64.random(in: 10...100, using: &random))
        guard let leader = ids.compactMap({ nodes[$0]! }).filter({ $0.raft?.role == .leader }).max(by: { $0.raft!.epoch < $1.raft!.epoch }) else {
            return
        }
        var records: [[UInt8]] = []
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let id = nextPayload
            nextPayload += 1
            if healed { pendingAfterHeal[id] = now }
            records.append(Self.payload(id))
        }
        // A payload proposed after healing and not committed within a while is proposed again.
        if healed {
            for (id, proposedAt) in pendingAfterHeal where now - proposedAt > 1000 && !records.contains(Self.payload(id)) {
                records.append(Self.payload(id))
                pendingAfterHeal[id] = now
            }
        }
        do {
            _ = try leader.raft!.propose(records)
        } catch {
            return
        }
        try process(leader)
    }

    // MARK: Encodings

    static func payload(_ id: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: id >> (8 * UInt64($0))) } + [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: Int(id % 13))
    }

    static func payloadId(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    static func hash(_ seed: UInt64, _ entry: LogEntry) -> UInt64 {
        var h = seed ^ 0xCBF2_9CE4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: entry.offset >> Int64(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: entry.epoch >> Int32(shift))) }
        switch entry.payload {
        case .data(let bytes): mix(1); bytes.forEach(mix)
        case .leaderChange(let change): mix(2); mix(UInt8(truncatingIfNeeded: change.leaderId))
        case .noOp: mix(3)
        }
        return h
    }

    /// A snapshot's bytes: the applied offset and hash, then filler so that it takes several chunks.
    static func encodeSnapshot(offset: Int64, epoch: Int32, hash: UInt64) -> RaftSnapshot {
        var bytes: [UInt8] = []
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: UInt64(offset) >> UInt64(shift))) }
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
        bytes += (0..<(100 + Int(offset % 50))).map { UInt8(truncatingIfNeeded: hash >> UInt64($0 % 57)) }
        return RaftSnapshot(id: OffsetAndEpoch(offset: offset, epoch: epoch), bytes: bytes)
    }

    static func decodeSnapshot(_ snapshot: RaftSnapshot) -> (Int64, UInt64) {
        func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(snapshot.bytes[at + $1]) << (8 * UInt64($1)) } }
        return (Int64(word(0)), word(8))
    }
}
