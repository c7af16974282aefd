import Foundation
import Logging
import MartletClients
import MartletProtocol
import MartletReplication
import NIOCore

/// What a controller's Raft node is doing, for tests, logs and tools.
public struct RaftStatus: Hashable, Sendable {
    public var role: RaftRole
    public var epoch: Int32
    public var leaderId: ReplicaID?
    public var highWatermark: Int64
    public var logEndOffset: Int64
}

/// Runs one `RaftNode` for real: ticks it on a timer, persists what each ready asks for before the
/// messages that depend on it go out (quorum state fsynced, log appended and fsynced, snapshots written),
/// answers the KRaft requests the server hands it, sends the core's own requests to the other voters
/// and steps their responses back in, and passes committed entries to the applier.
///
/// An actor, so the core sees one event at a time; nothing in a ready's processing suspends, so a ready
/// is handled whole before the next event. Disk writes are synchronous on the actor: the metadata log
/// is small, and Kafka's Raft client flushes on its one thread as well.
public actor RaftDriver {
    /// How often the core's timers are checked.
    static let tickIntervalMs: Int64 = 10

    public nonisolated let nodeId: ReplicaID
    var node: RaftNode
    let storage: MetadataLog
    private let peers: RaftPeers
    private let context: RaftWireContext
    let applier: any MetadataApplier
    private let requestTimeoutMs: Int64
    let logger: Logger
    private var ticker: Task<Void, Never>?
    var stopped = false
    /// The active-controller side, nil on a node that only runs the quorum (Raft-level tests).
    var controller: ActiveController?
    private var lastRole: RaftRole?
    /// Fetches from caught-up replicas, held until there is something new for them (`RaftDriver+FetchParking`).
    var parkedFetches: [ParkedFetch] = []
    /// The high watermark last sent to each replica: an empty answer carrying a newer one is news.
    var highWatermarkSent: [ReplicaID: Int64] = [:]
    var snapshotSchedule: SnapshotSchedule

    /// Opens the metadata log under `metadata.log.dir` and rebuilds the core from it.
    public init(config: BrokerConfig, applier: any MetadataApplier, controller: ActiveController? = nil, logger: Logger) throws {
        let voters = config.quorumVoters
        nodeId = config.nodeId
        var raftConfig = RaftConfig(nodeId: config.nodeId, voters: Set(voters.map(\.id)))
        raftConfig.electionTimeoutMs = config.quorumElectionTimeoutMs
        raftConfig.fetchTimeoutMs = config.quorumFetchTimeoutMs
        raftConfig.electionBackoffMaxMs = config.quorumElectionBackoffMaxMs
        raftConfig.requestTimeoutMs = config.quorumRequestTimeoutMs
        // The leader parks a caught-up fetch until the log or the high watermark moves, so the next one
        // can go out at once: entries commit and reach brokers in round trips, not polling intervals.
        raftConfig.fetchIdleIntervalMs = 0
        // Kafka's `controller.quorum.retry.backoff.ms` is 20 ms; errors here are mostly an unreachable
        // peer, whose connection backs off on its own.
        raftConfig.fetchErrorBackoffMs = 50
        let listener = config.controllerListenerNames.first ?? "CONTROLLER"
        context = RaftWireContext(
            localId: config.nodeId, clusterId: config.clusterId,
            endpoints: Dictionary(uniqueKeysWithValues: voters.map {
                ($0.id, [RaftEndpoint(listener: listener, host: $0.host, port: UInt16($0.port))])
            }))
        let storage = try MetadataLog(metadataLogDirectory: config.metadataLogDirectory, voters: voters.map(\.id))
        let persisted = try storage.load()
        if let snapshot = persisted.snapshot { applier.load(snapshot) }
        self.storage = storage
        snapshotSchedule = SnapshotSchedule(config: config, logStartOffset: persisted.snapshot?.id.offset ?? 0, nowMs: Self.nowMs())
        node = RaftNode(config: raftConfig, persisted: persisted, nowMs: Self.nowMs(), random: .seededFromSystem())
        peers = RaftPeers(voters: voters, localId: config.nodeId)
        requestTimeoutMs = config.quorumRequestTimeoutMs
        self.applier = applier
        self.controller = controller
        self.logger = logger
        logger.info(
            "node \(config.nodeId): metadata log \(storage.directory) ends at \(persisted.entries.last.map { $0.offset + 1 } ?? persisted.snapshot?.id.offset ?? 0), epoch \(persisted.quorumState.epoch)")
    }

    /// Starts ticking. Messages the core wants to send right away (a follower's first fetch) go out now.
    public func start() {
        guard ticker == nil, !stopped else { return }
        process(answering: nil)
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Self.tickIntervalMs))
                await self?.tick()
            }
        }
    }

    /// Stops ticking, drops the peer connections and closes the log. Requests arriving later are refused.
    public func stop() async {
        stopped = true
        controller?.deactivate()
        releaseParkedFetches(now: .max)
        ticker?.cancel()
        await ticker?.value
        ticker = nil
        await peers.close()
        do {
            try storage.flush()
            try storage.close()
        } catch {
            logger.error("closing the metadata log: \(error)")
        }
    }

    public var status: RaftStatus {
        RaftStatus(
            role: node.role, epoch: node.epoch, leaderId: node.currentLeader, highWatermark: node.highWatermark,
            logEndOffset: node.logEndOffset)
    }

    /// The quorum as DescribeQuorum reports it: the leader's view, nil on any other node.
    public func describeQuorum() -> QuorumDescription? { node.describeQuorum() }

    /// Where voters listen, for responses that name a leader.
    public nonisolated var wireContext: RaftWireContext { context }

    /// Appends application records as the leader; they commit once the high watermark passes them.
    public func propose(_ records: [[UInt8]]) throws(RaftNode.ProposalError) -> Range<Int64> {
        let offsets = try node.propose(records)
        process(answering: nil)
        return offsets
    }

    /// Answers a KRaft request received at `version`: maps it onto the core, steps it, and returns the
    /// core's answer as the Kafka response. A request refused by the mapping (wrong partition, cluster or
    /// voter) is answered with its error code and never reaches the core.
    public func handle(_ request: RaftWireRequest, version: Int16) async -> RaftWireResponse? {
        guard !stopped else { return try? RaftWire.errorResponse(request.apiKey, .notController) }
        let inbound: RaftInbound
        do {
            inbound = try RaftWire.inbound(request, version: version, context: context)
        } catch {
            logger.warning("refusing \(request.apiKey.name) v\(version): \(error)")
            return try? RaftWire.errorResponse(request.apiKey, error.errorCode)
        }
        node.step(inbound.message, from: inbound.from)
        guard var answer = process(answering: inbound.from) else {
            return try? RaftWire.errorResponse(request.apiKey, .unknownServerError)
        }
        if case .fetch = inbound.message, isNothingNew(answer, for: inbound.from) {
            await parkFetch()
            if !stopped {
                node.step(inbound.message, from: inbound.from)
                answer = process(answering: inbound.from) ?? answer
            }
        }
        if case .fetchResponse(let response) = answer { highWatermarkSent[inbound.from] = response.highWatermark }
        do {
            return try RaftWire.response(answer, context: context, recordTimestamp: Self.nowMs())
        } catch {
            logger.error("cannot answer \(request.apiKey.name): \(error)")
            return try? RaftWire.errorResponse(request.apiKey, .unknownServerError)
        }
    }

    /// A fetch that could not be delivered or got no answer comes back as BROKER_NOT_AVAILABLE from the
    /// peer, as Kafka's network channel reports a disconnect, so the core backs off briefly (and an
    /// observer looks for the leader elsewhere) instead of waiting out its request timeout.
    func unreachable(_ request: RaftMessage, _ peer: ReplicaID) {
        guard !stopped, case .fetch(let fetch) = request else { return }
        receive(
            .fetchResponse(RaftFetchResponse(
                error: .brokerNotAvailable, epoch: fetch.currentLeaderEpoch, leaderId: nil, fetchOffset: fetch.fetchOffset,
                lastFetchedEpoch: fetch.lastFetchedEpoch)),
            from: peer)
    }

    /// A response from a voter to a request this node sent.
    func receive(_ message: RaftMessage, from: ReplicaID) {
        guard !stopped else { return }
        node.step(message, from: from)
        process(answering: nil)
    }

    private func tick() {
        guard !stopped else { return }
        let now = Self.nowMs()
        node.tick(nowMs: now)
        process(answering: nil)
        tickController(now: now)
        releaseParkedFetches(now: now)
        snapshotIfDue(now: now)
    }

    /// Drains the core's readies in RaftReady's order: quorum state durable, log operations applied and
    /// flushed, then messages sent, committed entries applied, and the flush reported (which may produce
    /// another ready). Returns the response to the request from `answering`, if one was produced.
    @discardableResult
    func process(answering requester: ReplicaID?) -> RaftMessage? {
        var answer: RaftMessage?
        while true {
            let ready = node.takeReady()
            guard !ready.isEmpty else { break }
            do {
                if let state = ready.quorumState { try storage.quorumState.save(state) }
                let now = Self.nowMs()
                for operation in ready.logOperations { try storage.apply(operation, now: now) }
                if !ready.logOperations.isEmpty { try storage.flush() }
            } catch {
                halt("\(error)")
            }
            for rejection in ready.rejections { logger.warning("rejected \(rejection)") }
            for envelope in ready.messages {
                if envelope.message.isResponse {
                    if envelope.to == requester && answer == nil { answer = envelope.message }
                } else {
                    send(envelope)
                }
            }
            var applied = !ready.committed.isEmpty
            for operation in ready.logOperations {
                if case .installSnapshot(let snapshot) = operation {
                    applier.load(snapshot)
                    applied = true
                }
            }
            applier.apply(ready.committed)
            // The observers follow the registered brokers; they can change only when something was applied,
            // so most rounds (a fetch answered, a tick) skip reading the image.
            if applied {
                let brokers = applier.registeredBrokers
                if brokers != node.config.observers { node.setObservers(brokers) }
            }
            let appended = ready.logOperations.contains { if case .append = $0 { true } else { false } }
            if appended { node.logFlushed(ready.flushToken) }
        }
        if node.role != lastRole {
            logger.info("node \(nodeId): metadata quorum \(node.role) in epoch \(node.epoch), leader \(node.currentLeader.map(String.init) ?? "none")")
            lastRole = node.role
            highWatermarkSent = [:]
        }
        updateController()
        releaseParkedFetches(now: nil)
        return answer
    }

    /// Sends one of the core's requests and steps the response back in when it comes; a failed or
    /// timed-out exchange is dropped (the core asks again after its request timeout).
    private func send(_ envelope: RaftEnvelope) {
        let wire: RaftWireRequest
        let version: Int16
        let body: ByteBuffer
        do {
            wire = try RaftWire.request(envelope.message, to: envelope.to, context: context)
            version = RaftWireVersions.kafka40.version(for: wire.apiKey) ?? 0
            body = try wire.encoded(version: version)
        } catch {
            logger.error("cannot send \(envelope.message) to \(envelope.to): \(error)")
            return
        }
        guard let connection = peers.connection(to: envelope.to) else { return }
        let (request, to, timeoutMs, logger) = (envelope.message, envelope.to, requestTimeoutMs, logger)
        Task { [weak self] in
            let responseBody: ByteBuffer
            do {
                responseBody = try await connection.send(apiKey: wire.apiKey, version: version, body: body, timeoutMs: timeoutMs)
            } catch {
                logger.trace("\(wire.apiKey.name) to \(to): \(error)")
                await self?.unreachable(request, to)
                return
            }
            do {
                let response = try RaftWireResponse(apiKey: wire.apiKey, version: version, body: responseBody)
                let message = try RaftWire.message(from: response, answering: request, version: version)
                await self?.receive(message, from: to)
            } catch {
                logger.warning("unreadable \(wire.apiKey.name) response from \(to): \(error)")
            }
        }
    }

    /// Stops the process on a failed write the quorum relies on, as Kafka halts: continuing could vote
    /// twice or acknowledge entries that are not on disk.
    private func halt(_ reason: String) -> Never {
        logger.critical("node \(nodeId) halting: \(ControllerError.storageFailed(reason))")
        fatalError("metadata storage failed: \(reason)")
    }

    static func nowMs() -> Int64 { SystemLogClock().milliseconds() }
}

extension RaftMessage {
    /// Whether this is an answer (sent back on the requester's connection) rather than a request.
    var isResponse: Bool {
        switch self {
        case .voteResponse, .beginQuorumEpochResponse, .endQuorumEpochResponse, .fetchResponse, .fetchSnapshotResponse: true
        case .vote, .beginQuorumEpoch, .endQuorumEpoch, .fetch, .fetchSnapshot: false
        }
    }
}
