import MartletProtocol
import MartletReplication

/// BeginQuorumEpoch (key 53) on a controller: a newly elected leader announces itself.
struct BeginQuorumEpochHandler: ApiHandler {
    typealias Request = BeginQuorumEpochRequest
    let versions: ClosedRange<Int16> = 0...1
    let driver: RaftDriver

    func handle(_ request: BeginQuorumEpochRequest, context: RequestContext) async -> HandlerOutcome<BeginQuorumEpochResponse> {
        guard case .beginQuorumEpoch(let response)? = await driver.handle(.beginQuorumEpoch(request), version: context.apiVersion) else {
            return .respond(BeginQuorumEpochResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue))
        }
        return .respond(response)
    }
}
