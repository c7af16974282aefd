import MartletProtocol
import MartletReplication

/// EndQuorumEpoch (key 54) on a controller: a resigning leader asks the voters to elect a successor.
struct EndQuorumEpochHandler: ApiHandler {
    typealias Request = EndQuorumEpochRequest
    let versions: ClosedRange<Int16> = 0...1
    let driver: RaftDriver

    func handle(_ request: EndQuorumEpochRequest, context: RequestContext) async -> HandlerOutcome<EndQuorumEpochResponse> {
        guard case .endQuorumEpoch(let response)? = await driver.handle(.endQuorumEpoch(request), version: context.apiVersion) else {
            return .respond(EndQuorumEpochResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue))
        }
        return .respond(response)
    }
}
