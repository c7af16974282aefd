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

    init(brokerId: Int32, channel: ControllerChannel, lifecycle: BrokerLifecycle) {
        self.brokerId = brokerId
        self.channel = channel
        self.lifecycle = lifecycle
    }

    func next() async throws -> Int64 {
        if next >= end { try await allocateBlock() }
        defer { next += 1 }
        return next
    }

    private func allocateBlock() async throws(BrokerError) {
        guard let epoch = await lifecycle.brokerEpoch else {
            throw BrokerError(.coordinatorNotAvailable, "This broker is not registered with the controller yet.")
        }
        let response = try await channel.send(
            AllocateProducerIdsRequest(brokerId: brokerId, brokerEpoch: epoch), version: 0,
            timeoutMs: ClusterMetadataStore.controllerTimeoutMs,
            isNotController: { $0.errorCode == KafkaErrorCode.notController.rawValue })
        guard response.errorCode == 0 else {
            let code = KafkaErrorCode(rawValue: response.errorCode) ?? .unknownServerError
            throw BrokerError(code, "The controller refused a producer id block: \(code.name)")
        }
        next = response.producerIdStart
        end = response.producerIdStart + Int64(response.producerIdLen)
    }
}
