import MartletProtocol

/// DeleteTopics (key 20): removes topics (by name, or by id in v6+) and their logs.
/// On a single node; a broker under the controllers forwards the request (`ForwardingHandler`).
struct DeleteTopicsHandler: ApiHandler {
    typealias Request = DeleteTopicsRequest
    let versions: ClosedRange<Int16> = 1...6
    let admin: LocalTopicAdmin

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async -> HandlerOutcome<DeleteTopicsResponse> {
        let wanted: [(name: String?, id: KafkaUUID)] = context.apiVersion >= 6
            ? request.topics.map { ($0.name, $0.topicId) }
            : request.topicNames.map { ($0, KafkaUUID.zero) }
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        for (name, id) in wanted {
            var result = DeleteTopicsResponse.DeletableTopicResult(name: name, topicId: id)
            guard admin.core.config.deleteTopicEnable else {
                result.errorCode = KafkaErrorCode.topicDeletionDisabled.rawValue
                result.errorMessage = "Topic deletion is disabled."
                results.append(result)
                continue
            }
            var resolved = name
            if resolved == nil || (name == nil && id != .zero) {
                resolved = await admin.core.metadata.topic(withId: id)?.name
                if resolved == nil {
                    result.errorCode = KafkaErrorCode.unknownTopicId.rawValue
                    result.errorMessage = "This server does not host this topic ID."
                    results.append(result)
                    continue
                }
            }
            switch await admin.deleteTopic(name: resolved!) {
            case .success(let deleted):
                result.name = deleted.name
                result.topicId = deleted.id
            case .failure(let error):
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            results.append(result)
        }
        return .respond(DeleteTopicsResponse(throttleTimeMs: 0, responses: results))
    }
}
