import MartletProtocol

/// Heartbeat (key 12): keeps a member's session alive and tells it when to rejoin (REBALANCE_IN_PROGRESS).
struct HeartbeatHandler: ApiHandler {
    typealias Request = HeartbeatRequest
    let versions: ClosedRange<Int16> = 0...4
    let groups: GroupCoordinator

    func handle(_ request: HeartbeatRequest, context: RequestContext) async -> HandlerOutcome<HeartbeatResponse> {
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            return .respond(await shard.heartbeat(request))
        case .failure(let error):
            return .respond(HeartbeatResponse(errorCode: error.code.rawValue))
        }
    }
}
