import MartletProtocol
import MartletReplication

/// DeleteTopics (key 20) on a controller: the active controller writes a RemoveTopicRecord per topic and
/// answers once they are committed; any other controller answers NOT_CONTROLLER for every topic.
struct ControllerDeleteTopicsHandler: ApiHandler {
    typealias Request = DeleteTopicsRequest
    let versions: ClosedRange<Int16> = 1...6
    let driver: RaftDriver

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async -> HandlerOutcome<DeleteTopicsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.deleteTopics(request, nextOffset: nextOffset) }
        let named = request.topicNames.map { DeleteTopicsRequest.DeleteTopicState(name: $0, topicId: .zero) } + request.topics
        return .respond(response ?? DeleteTopicsResponse(responses: named.map {
            .init(name: $0.name, topicId: $0.topicId, errorCode: KafkaErrorCode.notController.rawValue)
        }))
    }
}
