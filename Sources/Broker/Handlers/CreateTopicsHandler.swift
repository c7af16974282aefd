import MartletProtocol

/// CreateTopics (key 19): creates topics with the requested or default partitions, replication factor and
/// configs; validate-only checks without creating. Every topic asked about gets its own result.
struct CreateTopicsHandler: ApiHandler {
    typealias Request = CreateTopicsRequest
    let versions: ClosedRange<Int16> = 2...7
    let broker: BrokerCore

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async -> HandlerOutcome<CreateTopicsResponse> {
        let repeated = namesListedMoreThanOnce(request.topics.map(\.name))
        var results: [CreateTopicsResponse.CreatableTopicResult] = []
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name)
            if repeated.contains(topic.name) {
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "Create topics request from client contains a duplicate topic name: \(topic.name)"
                results.append(result)
                continue
            }
            let outcome: Result<TopicMetadata, BrokerError>
            if let problem = assignmentProblem(topic) {
                outcome = .failure(problem)
            } else {
                var configs: [String: String] = [:]
                for config in topic.configs { if let value = config.value { configs[config.name] = value } }
                let partitions = topic.assignments.isEmpty ? (topic.numPartitions == -1 ? nil : topic.numPartitions) : Int32(topic.assignments.count)
                let factor = topic.assignments.isEmpty ? (topic.replicationFactor == -1 ? nil : topic.replicationFactor) : Int16(topic.assignments[0].brokerIds.count)
                outcome = await broker.createTopic(
                    name: topic.name, partitions: partitions, replicationFactor: factor, configs: configs,
                    assignment: topic.assignments.isEmpty ? nil : topic.assignments.sorted { $0.partitionIndex < $1.partitionIndex }.map(\.brokerIds),
                    validateOnly: request.validateOnly)
            }
            switch outcome {
            case .success(let created):
                result.topicId = created.id
                result.numPartitions = created.partitionCount
                result.replicationFactor = created.replicationFactor
                result.configs = broker.config.resolveTopicConfigs(created.configs).map {
                    .init(name: $0.definition.name, value: $0.isSensitive ? nil : $0.value, readOnly: false,
                          configSource: $0.source.rawValue, isSensitive: $0.isSensitive)
                }
            case .failure(let error):
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
                result.numPartitions = -1
                result.replicationFactor = -1
            }
            results.append(result)
        }
        return .respond(CreateTopicsResponse(throttleTimeMs: 0, topics: results))
    }

    /// Manual replica assignments must come without a partition count or factor, number partitions 0..n-1,
    /// and name each broker at most once per partition; which brokers may be named is the metadata's call.
    private func assignmentProblem(_ topic: CreateTopicsRequest.CreatableTopic) -> BrokerError? {
        guard !topic.assignments.isEmpty else { return nil }
        if topic.numPartitions != -1 || topic.replicationFactor != -1 {
            return BrokerError(.invalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
        }
        let indexes = topic.assignments.map(\.partitionIndex).sorted()
        if indexes != Array(0..<Int32(indexes.count)) {
            return BrokerError(.invalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence")
        }
        if let bad = topic.assignments.first(where: { $0.brokerIds.isEmpty || Set($0.brokerIds).count != $0.brokerIds.count }) {
            return BrokerError(.invalidReplicaAssignment, "Invalid replica assignment for partition \(bad.partitionIndex): \(bad.brokerIds)")
        }
        return nil
    }
}
