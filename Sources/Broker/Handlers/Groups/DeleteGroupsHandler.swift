import MartletProtocol

/// DeleteGroups (key 42): removes empty groups with all their committed offsets (NON_EMPTY_GROUP while
/// members remain).
struct DeleteGroupsHandler: ApiHandler {
    typealias Request = DeleteGroupsRequest
    let versions: ClosedRange<Int16> = 0...2
    let groups: GroupCoordinator

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async -> HandlerOutcome<DeleteGroupsResponse> {
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for groupId in request.groupsNames {
            switch await groups.shard(for: groupId) {
            case .success(let shard):
                results += await shard.perform(
                    { state, _ in state.deleteGroups([groupId]) },
                    failed: { error, _ in [DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: error.rawValue)] })
            case .failure(let error):
                results.append(.init(groupId: groupId, errorCode: error.code.rawValue))
            }
        }
        return .respond(DeleteGroupsResponse(results: results))
    }
}
