import Logging
import MartletProtocol
import NIOCore

/// Drives the `GroupCoordinatorState` of one `__consumer_offsets` partition: the broker side of the pure
/// coordinator (Kafka's `CoordinatorRuntime` for one shard).
///
/// - Every call mutates the state at once, on this actor, and queues its effects. One writer drains the
///   queue in order, appending the records of everything queued since its last write as one batch (a
///   group commit), and only then are the answers sent: a client never hears of group state that a crash
///   could take back. Effects without records wait their turn too, so answers never overtake the writes
///   they depend on.
/// - A failed write answers the calls of that batch with Kafka's mapped error and rebuilds the state from
///   the log, which is what survived.
/// - Session, join and sync deadlines fire from one timer set to the state's next deadline; offset
///   retention runs every `offsets.retention.check.interval.ms`.
actor GroupCoordinatorShard {
    nonisolated let partitionIndex: Int32
    private let partition: Partition
    private let logger: Logger
    private var state: GroupCoordinatorState
    private var nextRequestID: UInt64 = 1
    private var parkedJoins: [GroupRequestID: CheckedContinuation<JoinGroupResponse, Never>] = [:]
    private var parkedSyncs: [GroupRequestID: CheckedContinuation<SyncGroupResponse, Never>] = [:]
    /// Effects waiting for the writer, each with the call waiting for its write (immediate answers).
    private var queuedWrites: [(effects: GroupEffects, done: CheckedContinuation<KafkaErrorCode?, Never>?)] = []
    private var writing = false
    private var timer: Task<Void, Never>?
    private var timerDeadlineMs: Int64?
    private var retention: Task<Void, Never>?
    private var isClosed = false

    /// Most bytes of records one appended batch holds; larger writes go out as several batches.
    static let maximumBatchBytes = 512 * 1024

    init(partition: Partition, config: GroupCoordinatorConfig, logger: Logger) {
        partitionIndex = partition.topicPartition.partition
        self.partition = partition
        self.logger = logger
        state = GroupCoordinatorState(config: config)
    }

    // MARK: Lifecycle

    /// Replays the partition's records into the state, then starts the timers.
    func load() async throws(BrokerError) {
        let started = ContinuousClock.now
        var loaded = state
        let replayed = try await replayLog(into: &loaded)
        state = loaded
        scheduleRetention()
        enqueue(state.finishLoading(now: Self.now()))
        if replayed > 0 {
            logger.info("loaded __consumer_offsets-\(partitionIndex): \(replayed) record(s), \(state.groups.count) group(s) in \(ContinuousClock.now - started)")
        }
    }

    /// Gives the partition up (shutdown): every group goes Dead and parked calls get NOT_COORDINATOR.
    func close() async {
        isClosed = true
        timer?.cancel()
        retention?.cancel()
        deliver(state.unload(now: Self.now()), writeError: nil)
    }

    // MARK: Requests

    func join(_ request: JoinGroupRequest, context: RequestContext) async -> JoinGroupResponse {
        let id = newRequestID()
        return await withCheckedContinuation { continuation in
            parkedJoins[id] = continuation
            let call = JoinGroupCall(
                request, requestID: id, apiVersion: context.apiVersion, clientId: context.clientId ?? "", clientHost: context.clientHost)
            enqueue(state.join(call, now: Self.now()))
        }
    }

    func sync(_ request: SyncGroupRequest, apiVersion: Int16) async -> SyncGroupResponse {
        let id = newRequestID()
        return await withCheckedContinuation { continuation in
            parkedSyncs[id] = continuation
            enqueue(state.sync(SyncGroupCall(request, requestID: id, apiVersion: apiVersion), now: Self.now()))
        }
    }

    func heartbeat(_ request: HeartbeatRequest) -> HeartbeatResponse {
        defer { rescheduleTimer() }
        return state.heartbeat(request, now: Self.now())
    }

    /// Runs a call that answers at once, and returns its answer once its records are written, or
    /// `failed(error)` if they could not be.
    func perform<Response: Sendable & Equatable>(
        _ call: (inout GroupCoordinatorState, Int64) -> GroupOutcome<Response>,
        failed: (KafkaErrorCode, Response) -> Response
    ) async -> Response {
        var response: Response?
        let error = await withCheckedContinuation { continuation in
            let outcome = call(&state, Self.now())
            enqueue(outcome.effects, done: continuation)
            response = outcome.response
        }
        if let error {
            return failed(error, response!)
        }
        return response!
    }

    /// Runs a read-only call on the current state.
    func read<Result: Sendable>(_ query: (GroupCoordinatorState) -> Result) -> Result {
        query(state)
    }

    // MARK: Effects

    /// Queues effects for the writer, in the order the state produced them (no suspension may come
    /// between the state change and this call, or the log could get records in another order).
    private func enqueue(_ effects: GroupEffects, done: CheckedContinuation<KafkaErrorCode?, Never>? = nil) {
        rescheduleTimer()
        queuedWrites.append((effects, done))
        if !writing {
            writing = true
            Task { await drainWrites() }
        }
    }

    /// Writes what is queued, one group commit at a time, then sends the answers of what was written.
    /// A failed write fails everything queued up to the reload: those effects came from a state the log
    /// no longer matches.
    private func drainWrites() async {
        while !queuedWrites.isEmpty {
            var batch = queuedWrites
            queuedWrites.removeAll()
            let records = batch.flatMap(\.effects.records)
            let error = records.isEmpty ? nil : await append(records)
            if let error {
                logger.error("writing \(records.count) group record(s) to __consumer_offsets-\(partitionIndex) failed (\(error.name)); reloading its groups from the log")
                batch += queuedWrites
                queuedWrites.removeAll()
            }
            for write in batch {
                deliver(write.effects, writeError: error)
                write.done?.resume(returning: error)
            }
            if error != nil { await reload() }
        }
        writing = false
    }

    /// Appends `records` as uncompressed batches of at most `maximumBatchBytes`.
    private func append(_ records: [GroupCoordinatorRecord]) async -> KafkaErrorCode? {
        let now = Self.now()
        var builder = RecordBatchBuilder()
        do {
            for record in records {
                let (key, value) = try GroupRecordCodec.encode(record)
                if !builder.isEmpty && builder.uncompressedSize + key.readableBytes + (value?.readableBytes ?? 0) > Self.maximumBatchBytes {
                    _ = try await partition.appendRecords(builder.finish(), requiredAcks: -1, now: now)
                    builder = RecordBatchBuilder()
                }
                builder.append(timestamp: now, key: key, value: value)
            }
            _ = try await partition.appendRecords(builder.finish(), requiredAcks: -1, now: now)
            return nil
        } catch let error as BrokerError {
            return Self.clientError(for: error.code)
        } catch {
            logger.error("cannot encode group records: \(error)")
            return .unknownServerError
        }
    }

    /// Kafka's `appendGroupMetadataErrorToResponseError`: what a group client is told when the
    /// coordinator could not write.
    static func clientError(for writeError: KafkaErrorCode) -> KafkaErrorCode {
        switch writeError {
        case .unknownTopicOrPartition, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut:
            .coordinatorNotAvailable
        case .notLeaderOrFollower, .kafkaStorageError:
            .notCoordinator
        case .messageTooLarge, .recordListTooLarge, .invalidFetchSize:
            .unknownServerError
        default:
            writeError
        }
    }

    /// Sends the parked answers of `effects`, as they are or with `writeError` in place of their own.
    private func deliver(_ effects: GroupEffects, writeError: KafkaErrorCode?) {
        for answer in effects.joinResponses {
            var response = answer.response
            if let writeError { response = JoinGroupResponse(errorCode: writeError.rawValue, memberId: response.memberId) }
            parkedJoins.removeValue(forKey: answer.requestID)?.resume(returning: response)
        }
        for answer in effects.syncResponses {
            var response = answer.response
            if let writeError { response = SyncGroupResponse(errorCode: writeError.rawValue) }
            parkedSyncs.removeValue(forKey: answer.requestID)?.resume(returning: response)
        }
    }

    /// After a failed write the state is ahead of the log: rebuild it from the log. Calls parked in the
    /// old state are told NOT_COORDINATOR, which makes their clients look the coordinator up and rejoin.
    private func reload() async {
        deliver(state.unload(now: Self.now()), writeError: nil)
        var fresh = GroupCoordinatorState(config: state.config)
        do {
            _ = try await replayLog(into: &fresh)
        } catch {
            logger.error("cannot reload __consumer_offsets-\(partitionIndex): \(error)")
        }
        state = fresh
        deliver(state.finishLoading(now: Self.now()), writeError: nil)
        rescheduleTimer()
    }

    // MARK: Loading

    /// Applies every record of the partition to `target`, in log order; returns how many it applied.
    private func replayLog(into target: inout GroupCoordinatorState) async throws(BrokerError) -> Int {
        var offset = await partition.offsets.logStartOffset
        var applied = 0
        while true {
            let read = try await partition.read(
                from: offset, maxBytes: 4 * 1024 * 1024, minOneBatch: true, currentLeaderEpoch: -1, readCommitted: false)
            if read.records.isEmpty { break }
            var bytes: ByteBuffer
            do {
                bytes = try read.records.readBytes()
            } catch {
                throw BrokerError(error.kafkaErrorCode, error.description)
            }
            while bytes.readableBytes > 0 {
                let batch: RecordBatch
                do {
                    batch = try RecordBatch.decode(from: &bytes, maximumUncompressedSize: 64 * 1024 * 1024)
                } catch {
                    throw BrokerError(.corruptMessage, "__consumer_offsets-\(partitionIndex) at offset \(offset): \(error)")
                }
                if batch.header.attributes.isControl { continue }
                for record in batch.records {
                    guard let key = record.key else { continue }
                    do {
                        if let decoded = try GroupRecordCodec.decode(key: key, value: record.value) {
                            target.apply(decoded)
                            applied += 1
                        }
                    } catch {
                        logger.warning("skipping an unreadable record at offset \(batch.offset(of: record)) of __consumer_offsets-\(partitionIndex): \(error)")
                    }
                }
            }
            offset = read.records.nextOffset
        }
        return applied
    }

    // MARK: Time

    private static func now() -> Int64 { SystemLogClock().milliseconds() }

    private func newRequestID() -> GroupRequestID {
        defer { nextRequestID += 1 }
        return GroupRequestID(nextRequestID)
    }

    /// Points the timer at the state's next deadline, if that changed.
    private func rescheduleTimer() {
        let deadline = state.nextDeadlineMs
        guard !isClosed, deadline != timerDeadlineMs else { return }
        timer?.cancel()
        timerDeadlineMs = deadline
        guard let deadline else { return }
        timer = Task {
            let delay = max(0, deadline - Self.now())
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            fireTimer()
        }
    }

    private func fireTimer() {
        timerDeadlineMs = nil
        enqueue(state.tick(now: Self.now()))
    }

    private func scheduleRetention() {
        let interval = Duration.milliseconds(state.config.offsetsRetentionCheckIntervalMs)
        retention = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                expireOffsets()
            }
        }
    }

    private func expireOffsets() {
        let effects = state.expireOffsets(now: Self.now())
        if !effects.records.isEmpty {
            logger.info("expired \(effects.records.count) offset and group record(s) in __consumer_offsets-\(partitionIndex)")
        }
        enqueue(effects)
    }
}
