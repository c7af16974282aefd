import MartletProtocol
import MartletReplication

/// IncrementalAlterConfigs (key 44) on a controller: the active controller checks topic configs against
/// the broker's config table and answers once the ConfigRecords are committed; any other controller
/// answers NOT_CONTROLLER for every resource.
struct ControllerIncrementalAlterConfigsHandler: ApiHandler {
    typealias Request = IncrementalAlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...1
    let driver: RaftDriver

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async -> HandlerOutcome<IncrementalAlterConfigsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.incrementalAlterConfigs(request, nextOffset: nextOffset) }
        return .respond(response ?? IncrementalAlterConfigsResponse(responses: request.resources.map {
            .init(errorCode: KafkaErrorCode.notController.rawValue, resourceType: $0.resourceType, resourceName: $0.resourceName)
        }))
    }
}
