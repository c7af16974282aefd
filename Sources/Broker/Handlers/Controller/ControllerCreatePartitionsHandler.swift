import MartletProtocol
import MartletReplication

/// CreatePartitions (key 37) on a controller: the active controller places the new partitions and answers
/// once their records are committed; any other controller answers NOT_CONTROLLER for every topic.
struct ControllerCreatePartitionsHandler: ApiHandler {
    typealias Request = CreatePartitionsRequest
    let versions: ClosedRange<Int16> = 0...3
    let driver: RaftDriver

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async -> HandlerOutcome<CreatePartitionsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.createPartitions(request, nextOffset: nextOffset) }
        return .respond(response ?? CreatePartitionsResponse(results: request.topics.map {
            .init(name: $0.name, errorCode: KafkaErrorCode.notController.rawValue)
        }))
    }
}
