import MartletProtocol

/// SyncGroup (key 14): after a join, the leader hands in every member's assignment and each member waits
/// for its own, which the coordinator passes through verbatim.
struct SyncGroupHandler: ApiHandler {
    typealias Request = SyncGroupRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinator

    func handle(_ request: SyncGroupRequest, context: RequestContext) async -> HandlerOutcome<SyncGroupResponse> {
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            return .respond(await shard.sync(request, apiVersion: context.apiVersion))
        case .failure(let error):
            return .respond(SyncGroupResponse(errorCode: error.code.rawValue))
        }
    }
}
