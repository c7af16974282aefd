import MartletProtocol

/// OffsetFetch (key 9): a group's committed offsets, for the partitions asked or all of them. v8+ ask for
/// several groups at once, each answered by its own coordinator shard. v10 (topic ids) is not served yet.
struct OffsetFetchHandler: ApiHandler {
    typealias Request = OffsetFetchRequest
    let versions: ClosedRange<Int16> = 1...9
    let groups: GroupCoordinator

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async -> HandlerOutcome<OffsetFetchResponse> {
        let version = context.apiVersion
        if version >= 8 {
            var answered: [OffsetFetchResponse.OffsetFetchResponseGroup] = []
            for group in request.groups {
                let topics = group.topics?.map { (name: $0.name, partitions: $0.partitionIndexes) }
                switch await groups.shard(for: group.groupId) {
                case .success(let shard):
                    answered.append(await shard.read { $0.fetchOffsets(groupId: group.groupId, topics: topics) })
                case .failure(let error):
                    answered.append(.init(groupId: group.groupId, errorCode: error.code.rawValue))
                }
            }
            return .respond(OffsetFetchResponse(groups: answered))
        }
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            return .respond(await shard.read { $0.fetchOffsets(request, apiVersion: version) })
        case .failure(let error):
            // v1 has no top-level error: every partition asked carries it.
            return .respond(OffsetFetchResponse(
                topics: (request.topics ?? []).map { topic in
                    .init(name: topic.name, partitions: topic.partitionIndexes.map {
                        .init(partitionIndex: $0, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: error.code.rawValue)
                    })
                },
                errorCode: error.code.rawValue))
        }
    }
}
