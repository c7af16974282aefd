import MartletProtocol

/// DeleteTopics (`ReplicationControlManager.deleteTopics`): a RemoveTopicRecord per topic named by name
/// (up to v5) or by id (v6), each answered on its own.
extension ControllerState {
    public mutating func deleteTopics(_ request: DeleteTopicsRequest, nextOffset: Int64) -> ControllerResult<DeleteTopicsResponse> {
        var batch = PendingRecords(firstOffset: nextOffset)
        let states = request.topicNames.map { DeleteTopicsRequest.DeleteTopicState(name: $0, topicId: .zero) } + request.topics
        let repeatedNames = Self.repeated(states.compactMap(\.name))
        let repeatedIds = Self.repeated(states.map(\.topicId).filter { $0 != .zero })
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        for state in states {
            var result = DeleteTopicsResponse.DeletableTopicResult(name: state.name, topicId: state.topicId, errorMessage: nil)
            do throws(ApiError) {
                let topic = try topicToDelete(state, repeatedNames: repeatedNames, repeatedIds: repeatedIds)
                result.name = topic.name
                result.topicId = topic.id
                emit(.removeTopic(RemoveTopicRecord(topicId: topic.id)), into: &batch)
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            results.append(result)
        }
        return ControllerResult(records: batch.records, response: DeleteTopicsResponse(responses: results))
    }

    private func topicToDelete(
        _ state: DeleteTopicsRequest.DeleteTopicState, repeatedNames: Set<String>, repeatedIds: Set<KafkaUUID>
    ) throws(ApiError) -> TopicImage {
        guard config.deleteTopicEnable else { throw ApiError(.topicDeletionDisabled, "Topic deletion is disabled.") }
        switch (state.name, state.topicId) {
        case (nil, .zero): throw ApiError(.invalidRequest, "Neither topic name nor id were specified.")
        case (.some, let id) where id != .zero: throw ApiError(.invalidRequest, "You may not specify both topic name and topic id.")
        case (.some(let name), _):
            if repeatedNames.contains(name) { throw ApiError(.invalidRequest, "Duplicate topic name.") }
            guard let topic = image.topic(named: name) else {
                throw ApiError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
            }
            return topic
        case (nil, let id):
            if repeatedIds.contains(id) { throw ApiError(.invalidRequest, "Duplicate topic id.") }
            guard let topic = image.topicsById[id] else { throw ApiError(.unknownTopicId, "This server does not host this topic ID.") }
            return topic
        }
    }
}
