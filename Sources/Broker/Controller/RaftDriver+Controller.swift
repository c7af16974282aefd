import MartletProtocol
import MartletReplication

/// The active controller on the Raft driver: commands run here, on the driver's actor, so each one sees
/// the log end its records will start at and is proposed before anything else can append.
extension RaftDriver {
    /// Runs a controller command if this node is the active controller, proposes its records and returns
    /// its response once they are committed. Nil means NOT_CONTROLLER: this node is not (or no longer) the
    /// active controller, or the records did not commit in time.
    ///
    /// On a new cluster the bootstrap records (`metadata.version`) go first, in the same proposal as the
    /// first command's, so that command already sees them. They are written with the first command rather
    /// than on activation because a record appended right after every election made the failover of a
    /// leader killed soon after slower (conformance: 4 s instead of 2 s in about one kill in five, from a
    /// second pre-vote round in the Raft core, whose cause is not pinned down yet).
    public func execute<Response: Sendable>(
        _ command: @Sendable (inout ControllerState, _ nextOffset: Int64, _ now: Int64) -> ControllerResult<Response>
    ) async -> Response? {
        guard !stopped, var state = controller?.state else { return nil }
        let now = Self.nowMs()
        let bootstrap = state.bootstrap(nextOffset: node.logEndOffset)
        let result = command(&state, node.logEndOffset + Int64(bootstrap.count), now)
        guard let last = append(bootstrap + result.records, leaving: state) else { return nil }
        guard last >= node.highWatermark else { return result.response }
        let response = result.response
        return await withCheckedContinuation { continuation in
            controller?.wait(for: last, deadline: now + ActiveController.commitTimeoutMs) { committed in
                continuation.resume(returning: committed ? response : nil)
            }
        }
    }

    /// Whether this node is the active controller (leads, and its epoch has committed), for tests and tools.
    public var isActiveController: Bool { controller?.state != nil }

    /// Follows the core after each round of readies: (de)activates the controller and answers the
    /// commands whose records committed.
    func updateController() {
        guard controller != nil else { return }
        controller?.observe(isLeader: node.role == .leader, epoch: node.epoch, logEndOffset: node.logEndOffset)
        controller?.committed(highWatermark: node.highWatermark)
        guard let controller, controller.shouldActivate(highWatermark: node.highWatermark) else { return }
        let state = ControllerState(
            image: controller.committedImage(), config: controller.config, now: Self.nowMs(), random: .seededFromSystem())
        self.controller?.activate(state, highWatermark: node.highWatermark)
        logger.info("controller \(nodeId): active in epoch \(node.epoch) from the image at offset \(state.image.lastAppliedOffset)")
    }

    /// On the driver's timer: refuses commands that waited too long and fences brokers whose session lapsed.
    func tickController(now: Int64) {
        controller?.expire(now: now)
        guard var state = controller?.state else { return }
        let fencing = state.tick(now: now, nextOffset: node.logEndOffset)
        if !fencing.isEmpty { _ = append(fencing, leaving: state) }
    }

    /// Proposes `records` and adopts the state that emitted them. Returns the last offset the controller
    /// has written (these records' last, else an earlier command's), or nil if they could not be proposed:
    /// then the state already holds records that will never be in the log, so this node resigns, as
    /// Kafka's controller renounces leadership on an unexpected error, and the next leader starts clean.
    private func append(_ records: [MetadataRecord], leaving state: ControllerState) -> Int64? {
        do {
            var lastOffset: Int64?
            if !records.isEmpty {
                let payloads = try records.map { record throws(KafkaWireError) in try record.encodedBytes() }
                lastOffset = try node.propose(payloads).upperBound - 1
            }
            controller?.adopt(state, lastOffset: lastOffset)
        } catch {
            logger.error("controller \(nodeId): cannot append \(records.count) metadata records, resigning: \(error)")
            node.resign()
            process(answering: nil)
            return nil
        }
        process(answering: nil)
        return controller?.state == nil ? nil : controller?.lastWrittenOffset
    }
}
