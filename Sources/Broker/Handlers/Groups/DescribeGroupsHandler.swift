import MartletProtocol

/// DescribeGroups (key 15): each group's state, protocol and members with their metadata and assignments.
struct DescribeGroupsHandler: ApiHandler {
    typealias Request = DescribeGroupsRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinator

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async -> HandlerOutcome<DescribeGroupsResponse> {
        var described: [DescribeGroupsResponse.DescribedGroup] = []
        for groupId in request.groups {
            switch await groups.shard(for: groupId) {
            case .success(let shard):
                var group = await shard.read { $0.describeGroups([groupId]) }[0]
                // Kafka leaves authorized operations at "not asked" unless the client asks (v3+).
                group.authorizedOperations = request.includeAuthorizedOperations ? Self.allGroupOperations : Int32.min
                described.append(group)
            case .failure(let error):
                described.append(.init(errorCode: error.code.rawValue, groupId: groupId))
            }
        }
        return .respond(DescribeGroupsResponse(groups: described))
    }

    /// READ, DELETE and DESCRIBE (Kafka's AclOperation codes 3, 6 and 8): everything a group allows, since
    /// this broker has no authorizer.
    static let allGroupOperations: Int32 = (1 << 3) | (1 << 6) | (1 << 8)
}
