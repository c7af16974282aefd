import MartletProtocol

/// CreatePartitions (key 37): grows a topic to `count` partitions. Every topic asked about gets a result.
/// On a single node; a broker under the controllers forwards the request (`ForwardingHandler`).
struct CreatePartitionsHandler: ApiHandler {
    typealias Request = CreatePartitionsRequest
    let versions: ClosedRange<Int16> = 0...3
    let admin: LocalTopicAdmin

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async -> HandlerOutcome<CreatePartitionsResponse> {
        let repeated = namesListedMoreThanOnce(request.topics.map(\.name))
        var results: [CreatePartitionsResponse.CreatePartitionsTopicResult] = []
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name)
            if repeated.contains(topic.name) {
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "Duplicate topic in request."
            } else if let assignments = topic.assignments,
                      assignments.contains(where: { $0.brokerIds.isEmpty || $0.brokerIds.contains { $0 != admin.core.config.nodeId } }) {
                result.errorCode = KafkaErrorCode.invalidReplicaAssignment.rawValue
                result.errorMessage = "Replica assignment names brokers that are not registered."
            } else if case .failure(let error) = await admin.growTopic(name: topic.name, to: topic.count, validateOnly: request.validateOnly) {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            results.append(result)
        }
        return .respond(CreatePartitionsResponse(throttleTimeMs: 0, results: results))
    }
}
