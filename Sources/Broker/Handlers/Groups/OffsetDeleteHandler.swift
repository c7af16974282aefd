import MartletProtocol

/// OffsetDelete (key 47): removes a group's committed offsets for partitions it no longer consumes.
struct OffsetDeleteHandler: ApiHandler {
    typealias Request = OffsetDeleteRequest
    let versions: ClosedRange<Int16> = 0...0
    let groups: GroupCoordinator

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async -> HandlerOutcome<OffsetDeleteResponse> {
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            return .respond(await shard.perform(
                { state, _ in state.deleteOffsets(request) },
                failed: { error, _ in OffsetDeleteResponse(errorCode: error.rawValue) }))
        case .failure(let error):
            return .respond(OffsetDeleteResponse(errorCode: error.code.rawValue))
        }
    }
}
