import MartletProtocol
import MartletReplication

/// FetchSnapshot (key 59) on a controller: a replica behind the leader's log start downloads its snapshot.
struct FetchSnapshotHandler: ApiHandler {
    typealias Request = FetchSnapshotRequest
    let versions: ClosedRange<Int16> = 0...1
    let driver: RaftDriver

    func handle(_ request: FetchSnapshotRequest, context: RequestContext) async -> HandlerOutcome<FetchSnapshotResponse> {
        guard case .fetchSnapshot(let response)? = await driver.handle(.fetchSnapshot(request), version: context.apiVersion) else {
            return .respond(FetchSnapshotResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue))
        }
        return .respond(response)
    }
}
