import MartletProtocol

/// LeaveGroup (key 13): members leave at once instead of timing out, so the rest rebalance without waiting
/// a session timeout. v3+ remove several members (static ones by instance id) in one call.
struct LeaveGroupHandler: ApiHandler {
    typealias Request = LeaveGroupRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinator

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async -> HandlerOutcome<LeaveGroupResponse> {
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            let version = context.apiVersion
            return .respond(await shard.perform(
                { state, now in state.leave(request, apiVersion: version, now: now) },
                failed: { error, _ in LeaveGroupResponse(errorCode: error.rawValue) }))
        case .failure(let error):
            return .respond(LeaveGroupResponse(errorCode: error.code.rawValue))
        }
    }
}
