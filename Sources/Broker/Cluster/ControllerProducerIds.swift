import MartletProtocol

/// Producer ids for a broker under the controllers: blocks handed out by the active controller
/// (AllocateProducerIds, committed as a ProducerIdsRecord before the answer), used up one id at a time, so
/// no two brokers, and no restart of this one, ever hand out the same id.
actor ControllerProducerIds: ProducerIdSource {
    private let brokerId: Int32
    private let channel: ControllerChannel
    private let lifecycle: BrokerLifecycle
    private var next: Int64 = 0
    private var end: Int64 = 0
    /// The block request in flight: concurrent callers wait for it instead of each asking for a block.
    private var allocating: Task<Void, any Error>?

    init(brokerId: Int32, channel: ControllerChannel, lifecycle: BrokerLifecycle) {
        self.brokerId = brokerId
        self.channel = channel
        self.lifecycle = lifecycle
    }

    func next() async throws -> Int64 {
        while next >= end {
            let request = allocating ?? Task { try await self.allocateBlock() }
            allocating = request
            defer { allocating = nil }
            try await request.value
        }
        defer { next += 1 }
        return next
    }

    /// Any failure is COORDINATOR_NOT_AVAILABLE to the client, which retries InitProducerId, as Kafka's
    /// broker answers while it has no block (the controller's own errors, such as STALE_BROKER_EPOCH,
    /// would be fatal to a producer).
    private func allocateBlock() async throws(BrokerError) {
        guard let epoch = await lifecycle.brokerEpoch else {
            throw BrokerError(.coordinatorNotAvailable, "This broker is not registered with the controller yet.")
        }
        let response: AllocateProducerIdsResponse
        do {
            response = try await channel.send(
                AllocateProducerIdsRequest(brokerId: brokerId, brokerEpoch: epoch), version: 0,
                timeoutMs: ClusterMetadataStore.controllerTimeoutMs,
                isNotController: { $0.errorCode == KafkaErrorCode.notController.rawValue })
        } catch {
            throw BrokerError(.coordinatorNotAvailable, "No producer id block from the controller: \(error.message)")
        }
        guard response.errorCode == 0 else {
            let code = KafkaErrorCode(rawValue: response.errorCode) ?? .unknownServerError
            throw BrokerError(.coordinatorNotAvailable, "The controller refused a producer id block: \(code.name)")
        }
        next = response.producerIdStart
        end = response.producerIdStart + Int64(response.producerIdLen)
    }
}
