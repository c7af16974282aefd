import MartletProtocol
import MartletReplication

/// Fetch (key 1) on a controller: replicas pull `__cluster_metadata-0`, KRaft's replication. It replaces
/// the broker's Fetch handler in a controller process (a controller serves no other topic). v12 is the
/// first with `LastFetchedEpoch`, without which KRaft cannot check a follower's log.
struct MetadataFetchHandler: ApiHandler {
    typealias Request = FetchRequest
    let versions: ClosedRange<Int16> = 12...17
    let driver: RaftDriver

    func handle(_ request: FetchRequest, context: RequestContext) async -> HandlerOutcome<FetchResponse> {
        guard case .fetch(let response)? = await driver.handle(.fetch(request), version: context.apiVersion) else {
            return .respond(FetchResponse(errorCode: KafkaErrorCode.unknownServerError.rawValue))
        }
        return .respond(response)
    }
}
