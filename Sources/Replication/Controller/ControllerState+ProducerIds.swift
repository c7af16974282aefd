import MartletProtocol

/// AllocateProducerIds (KIP-730, `ProducerIdControlManager`): hands a broker the next block of producer
/// ids; the ProducerIdsRecord moves the high mark so no id is given out twice, even across failovers.
extension ControllerState {
    /// Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`.
    public static let producerIdBlockSize: Int32 = 1000

    public mutating func allocateProducerIds(
        _ request: AllocateProducerIdsRequest, nextOffset: Int64
    ) -> ControllerResult<AllocateProducerIdsResponse> {
        let refusal = { (code: KafkaErrorCode) in
            ControllerResult(records: [], response: AllocateProducerIdsResponse(errorCode: code.rawValue, producerIdStart: -1, producerIdLen: -1))
        }
        guard let broker = image.brokers[request.brokerId] else { return refusal(.brokerIdNotRegistered) }
        guard broker.epoch == request.brokerEpoch else { return refusal(.staleBrokerEpoch) }
        let first = image.nextProducerId
        guard first <= Int64.max - Int64(Self.producerIdBlockSize) else { return refusal(.unknownServerError) }
        var batch = PendingRecords(firstOffset: nextOffset)
        emit(.producerIds(ProducerIdsRecord(
            brokerId: broker.id, brokerEpoch: broker.epoch, nextProducerId: first + Int64(Self.producerIdBlockSize))), into: &batch)
        return ControllerResult(records: batch.records, response: AllocateProducerIdsResponse(
            errorCode: 0, producerIdStart: first, producerIdLen: Self.producerIdBlockSize))
    }
}
