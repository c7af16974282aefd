import MartletProtocol
import MartletReplication

/// Vote (key 52) on a controller: a candidate (or, with KIP-996's flag, a prospective) voter asks for
/// this node's vote; the Raft driver answers from the core.
struct VoteHandler: ApiHandler {
    typealias Request = VoteRequest
    let versions: ClosedRange<Int16> = 0...2
    let driver: RaftDriver

    func handle(_ request: VoteRequest, context: RequestContext) async -> HandlerOutcome<VoteResponse> {
        guard case .vote(let response)? = await driver.handle(.vote(request), version: context.apiVersion) else {
            return .respond(VoteResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue))
        }
        return .respond(response)
    }
}
