import MartletProtocol
import MartletReplication

/// AlterConfigs (key 33) on a controller, the legacy whole-set form brokers forward: the active controller
/// replaces each resource's overrides and answers once the ConfigRecords are committed; any other
/// controller answers NOT_CONTROLLER for every resource.
struct ControllerAlterConfigsHandler: ApiHandler {
    typealias Request = AlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...2
    let driver: RaftDriver

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async -> HandlerOutcome<AlterConfigsResponse> {
        let response = await driver.execute { state, nextOffset, _ in state.legacyAlterConfigs(request, nextOffset: nextOffset) }
        return .respond(response ?? AlterConfigsResponse(responses: request.resources.map {
            .init(errorCode: KafkaErrorCode.notController.rawValue, resourceType: $0.resourceType, resourceName: $0.resourceName)
        }))
    }
}
