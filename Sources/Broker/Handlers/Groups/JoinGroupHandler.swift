import MartletProtocol

/// JoinGroup (key 11): a member joins or rejoins its group; the answer waits until the group's join phase
/// completes (a rebalance), so this call may be parked for up to the rebalance timeout.
struct JoinGroupHandler: ApiHandler {
    typealias Request = JoinGroupRequest
    let versions: ClosedRange<Int16> = 0...9
    let groups: GroupCoordinator

    func handle(_ request: JoinGroupRequest, context: RequestContext) async -> HandlerOutcome<JoinGroupResponse> {
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            return .respond(await shard.join(request, context: context))
        case .failure(let error):
            return .respond(JoinGroupResponse(errorCode: error.code.rawValue, memberId: request.memberId))
        }
    }
}
