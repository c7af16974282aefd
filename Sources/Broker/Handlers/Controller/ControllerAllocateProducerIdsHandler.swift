import MartletProtocol
import MartletReplication

/// AllocateProducerIds (key 67) on a controller: a broker takes the next block of producer ids, handed
/// out only once the ProducerIdsRecord that reserves it is committed, so no block is given twice even
/// across a failover. Any other controller answers NOT_CONTROLLER.
struct ControllerAllocateProducerIdsHandler: ApiHandler {
    typealias Request = AllocateProducerIdsRequest
    let versions: ClosedRange<Int16> = 0...0
    let driver: RaftDriver

    func handle(_ request: AllocateProducerIdsRequest, context: RequestContext) async -> HandlerOutcome<AllocateProducerIdsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.allocateProducerIds(request, nextOffset: nextOffset) }
        return .respond(response ?? AllocateProducerIdsResponse(errorCode: KafkaErrorCode.notController.rawValue, producerIdStart: -1, producerIdLen: -1))
    }
}
