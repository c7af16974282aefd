import MartletProtocol

/// Broker lifecycle (KIP-631): registration, heartbeats that unfence and shut down, and fencing of brokers
/// whose session lapsed (`ClusterControlManager`, `BrokerHeartbeatManager`).
extension ControllerState {
    /// Registers a broker, fenced, with the offset its RegisterBrokerRecord takes (`nextOffset`) as its
    /// epoch. A broker that retries with the same incarnation gets a new registration and epoch, as in
    /// Kafka; a different incarnation replaces the registration unless the old one is unfenced and still
    /// heartbeating (DUPLICATE_BROKER_REGISTRATION). A replaced registration may still lead partitions
    /// (its session lapsed but no tick fenced it yet, or it re-registered while active), so those move
    /// away and it leaves the ISRs as on fencing: no partition is ever led by a fenced broker.
    public mutating func registerBroker(
        _ request: BrokerRegistrationRequest, nextOffset: Int64, now: Int64
    ) -> ControllerResult<BrokerRegistrationResponse> {
        if let error = registrationProblem(request, now: now) {
            return ControllerResult(records: [], response: BrokerRegistrationResponse(errorCode: error.code.rawValue, brokerEpoch: -1))
        }
        var batch = PendingRecords(firstOffset: nextOffset)
        let record = RegisterBrokerRecord(
            brokerId: request.brokerId, incarnationId: request.incarnationId, brokerEpoch: nextOffset,
            endPoints: request.listeners.map { .init(name: $0.name, host: $0.host, port: $0.port, securityProtocol: $0.securityProtocol) },
            features: request.features.map { .init(name: $0.name, minSupportedVersion: $0.minSupportedVersion, maxSupportedVersion: $0.maxSupportedVersion) },
            rack: request.rack, fenced: true, inControlledShutdown: false, logDirs: request.logDirs)
        let replacing = image.brokers[request.brokerId] != nil
        emit(.registerBroker(record), into: &batch)
        if replacing { removeFromIsrs(request.brokerId, into: &batch) }
        sessions[request.brokerId] = BrokerSession(lastContactMs: now)
        return ControllerResult(records: batch.records, response: BrokerRegistrationResponse(errorCode: 0, brokerEpoch: nextOffset))
    }

    private func registrationProblem(_ request: BrokerRegistrationRequest, now: Int64) -> ApiError? {
        if request.clusterId != config.clusterId {
            return ApiError(.inconsistentClusterId, "Expected cluster ID \(config.clusterId), but got cluster ID \(request.clusterId)")
        }
        if let existing = image.brokers[request.brokerId], existing.incarnationId != request.incarnationId,
           hasLiveSession(existing, now: now) {
            return ApiError(.duplicateBrokerRegistration, "Another broker is registered with that broker id.")
        }
        for (name, level) in image.features.sorted(by: { $0.key < $1.key }) {
            let offered = request.features.first { $0.name == name }
            let supported = offered.map { $0.minSupportedVersion <= level && level <= $0.maxSupportedVersion } ?? false
            if !supported {
                return ApiError(.unsupportedVersion, "Unable to register because the broker does not support version \(level) of \(name).")
            }
        }
        return nil
    }

    /// A fenced broker has no session to protect (`BrokerHeartbeatManager.hasValidSession`).
    private func hasLiveSession(_ broker: BrokerRegistration, now: Int64) -> Bool {
        guard !broker.fenced, let session = sessions[broker.id] else { return false }
        return session.lastContactMs + config.brokerSessionTimeoutMs >= now
    }

    /// One heartbeat: refreshes the session and moves the broker along fenced → unfenced (once it has
    /// replayed its own registration) → controlled shutdown (leaders moved off) → shut down (fenced).
    public mutating func heartbeat(
        _ request: BrokerHeartbeatRequest, nextOffset: Int64, now: Int64
    ) -> ControllerResult<BrokerHeartbeatResponse> {
        guard let broker = image.brokers[request.brokerId] else {
            return ControllerResult(records: [], response: BrokerHeartbeatResponse(errorCode: KafkaErrorCode.brokerIdNotRegistered.rawValue, isFenced: true))
        }
        guard broker.epoch == request.brokerEpoch else {
            return ControllerResult(records: [], response: BrokerHeartbeatResponse(errorCode: KafkaErrorCode.staleBrokerEpoch.rawValue, isFenced: true))
        }
        var session = sessions[broker.id] ?? BrokerSession(lastContactMs: now)
        session.lastContactMs = now
        session.metadataOffset = request.currentMetadataOffset
        sessions[broker.id] = session

        var batch = PendingRecords(firstOffset: nextOffset)
        var shouldShutDown = false
        if broker.fenced {
            if request.wantShutDown {
                shouldShutDown = true
            } else if !request.wantFence && request.currentMetadataOffset >= broker.registrationOffset {
                emit(.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: broker.id, brokerEpoch: broker.epoch, fenced: -1)), into: &batch)
                electLeaders(onReturnOf: broker.id, into: &batch)
            }
        } else if broker.inControlledShutdown {
            if request.wantShutDown && readyToShutDown(broker.id, nextOffset: nextOffset) {
                fence(broker, into: &batch)
                shouldShutDown = true
            }
        } else if request.wantFence {
            fence(broker, into: &batch)
        } else if request.wantShutDown {
            if leadsPartitions(broker.id) {
                emit(.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: broker.id, brokerEpoch: broker.epoch, inControlledShutdown: 1)), into: &batch)
                removeFromIsrs(broker.id, into: &batch)
                sessions[broker.id]?.controlledShutdownOffset = batch.nextOffset - 1
            } else {
                fence(broker, into: &batch)
                shouldShutDown = true
            }
        }
        return ControllerResult(records: batch.records, response: BrokerHeartbeatResponse(
            errorCode: 0, isCaughtUp: request.currentMetadataOffset >= broker.registrationOffset,
            isFenced: image.brokers[broker.id]?.fenced ?? true, shouldShutDown: shouldShutDown))
    }

    /// A broker in controlled shutdown may stop once it leads nothing and every active broker has replayed
    /// the records that moved it into controlled shutdown. After a failover the new controller never saw
    /// that offset, so it starts counting from now.
    private mutating func readyToShutDown(_ brokerId: Int32, nextOffset: Int64) -> Bool {
        guard !leadsPartitions(brokerId) else { return false }
        guard let entered = sessions[brokerId]?.controlledShutdownOffset else {
            sessions[brokerId]?.controlledShutdownOffset = nextOffset - 1
            return false
        }
        let lowestActive = image.brokers.values.filter(\.isActive).map { sessions[$0.id]?.metadataOffset ?? -1 }.min() ?? .max
        return entered <= lowestActive
    }

    /// Fences every unfenced broker that has not heartbeated for `broker.session.timeout.ms`, moving its
    /// leaderships away and taking it out of ISRs. Brokers are fenced in id order so runs replay exactly.
    public mutating func tick(now: Int64, nextOffset: Int64) -> [MetadataRecord] {
        var batch = PendingRecords(firstOffset: nextOffset)
        for broker in image.brokers.values.sorted(by: { $0.id < $1.id }) where !broker.fenced {
            let lastContact = sessions[broker.id]?.lastContactMs ?? now
            if lastContact + config.brokerSessionTimeoutMs < now { fence(broker, into: &batch) }
        }
        return batch.records
    }

    /// `ReplicationControlManager.handleBrokerFenced`: the fence record, then the ISR and leader changes.
    private mutating func fence(_ broker: BrokerRegistration, into batch: inout PendingRecords) {
        emit(.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: broker.id, brokerEpoch: broker.epoch, fenced: 1)), into: &batch)
        removeFromIsrs(broker.id, into: &batch)
    }
}
