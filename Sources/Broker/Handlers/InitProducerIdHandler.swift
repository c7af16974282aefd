import MartletProtocol

/// InitProducerId (key 22): gives an idempotent producer its id and epoch. A producer that already has
/// an id and asks again (v3+, after a fatal sequence error) keeps the id with the epoch bumped.
/// Transactional producers are refused until transactions arrive.
struct InitProducerIdHandler: ApiHandler {
    typealias Request = InitProducerIdRequest
    let versions: ClosedRange<Int16> = 0...5
    let broker: BrokerCore

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> HandlerOutcome<InitProducerIdResponse> {
        if request.transactionalId != nil {
            return .respond(InitProducerIdResponse(
                throttleTimeMs: 0, errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1))
        }
        if request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < Int16.max - 1 {
            return .respond(InitProducerIdResponse(
                throttleTimeMs: 0, errorCode: 0, producerId: request.producerId, producerEpoch: request.producerEpoch + 1))
        }
        do {
            let id = try await broker.producerIds.next()
            return .respond(InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerId: id, producerEpoch: 0))
        } catch {
            broker.logger.error("cannot allocate a producer id: \(error)")
            // A controller that could not be reached is retriable; a local file that cannot be written is not.
            let code = (error as? BrokerError)?.code ?? .kafkaStorageError
            return .respond(InitProducerIdResponse(throttleTimeMs: 0, errorCode: code.rawValue, producerId: -1, producerEpoch: -1))
        }
    }
}
