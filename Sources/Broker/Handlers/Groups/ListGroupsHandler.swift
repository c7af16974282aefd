import MartletProtocol

/// ListGroups (key 16): every group this node coordinates, filtered by state (v4+) and type (v5+).
struct ListGroupsHandler: ApiHandler {
    typealias Request = ListGroupsRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinator

    func handle(_ request: ListGroupsRequest, context: RequestContext) async -> HandlerOutcome<ListGroupsResponse> {
        var listed: [ListGroupsResponse.ListedGroup] = []
        let states = request.statesFilter
        let types = request.typesFilter
        for shard in await groups.allShards() {
            listed += await shard.read { $0.listGroups(statesFilter: states, typesFilter: types) }
        }
        return .respond(ListGroupsResponse(errorCode: 0, groups: listed.sorted { $0.groupId < $1.groupId }))
    }
}
