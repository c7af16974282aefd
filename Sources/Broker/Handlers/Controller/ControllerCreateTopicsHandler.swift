import MartletProtocol
import MartletReplication

/// CreateTopics (key 19) on a controller: the active controller validates and places the topics, and
/// answers once their records are committed, so a created topic survives the loss of this controller.
/// Any other controller answers NOT_CONTROLLER for every topic, telling the client to find the active one.
struct ControllerCreateTopicsHandler: ApiHandler {
    typealias Request = CreateTopicsRequest
    let versions: ClosedRange<Int16> = 2...7
    let driver: RaftDriver

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async -> HandlerOutcome<CreateTopicsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.createTopics(request, nextOffset: nextOffset) }
        return .respond(response ?? CreateTopicsResponse(topics: request.topics.map {
            .init(name: $0.name, errorCode: KafkaErrorCode.notController.rawValue, numPartitions: -1, replicationFactor: -1)
        }))
    }
}
