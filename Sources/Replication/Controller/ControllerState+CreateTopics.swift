import MartletProtocol

/// CreateTopics (`ReplicationControlManager.createTopics`): each topic validated and answered on its own;
/// a valid one becomes a TopicRecord, its ConfigRecords and its PartitionRecords.
extension ControllerState {
    public mutating func createTopics(_ request: CreateTopicsRequest, nextOffset: Int64) -> ControllerResult<CreateTopicsResponse> {
        var batch = PendingRecords(firstOffset: nextOffset)
        let repeated = Self.repeated(request.topics.map(\.name))
        var results: [CreateTopicsResponse.CreatableTopicResult] = []
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, errorMessage: nil)
            do throws(ApiError) {
                if repeated.contains(topic.name) { throw ApiError(.invalidRequest, "Duplicate topic name.") }
                let plan = try planTopic(topic)
                result.topicId = plan.id
                result.numPartitions = Int32(plan.replicas.count)
                result.replicationFactor = Int16(plan.replicas[0].count)
                result.configs = plan.configs.map { .init(name: $0.name, value: $0.value, configSource: Self.dynamicTopicConfigSource) }
                if !request.validateOnly { create(plan, into: &batch) }
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            results.append(result)
        }
        return ControllerResult(records: batch.records, response: CreateTopicsResponse(topics: results))
    }

    /// `ConfigSource.DYNAMIC_TOPIC_CONFIG`: the only configs the controller reports are the topic's own;
    /// the broker answering the client adds defaults it knows.
    static let dynamicTopicConfigSource: Int8 = 1

    /// A topic that passed validation: its id, each partition's replicas, and its explicit configs.
    private struct TopicPlan {
        var name: String
        var id: KafkaUUID
        var replicas: [[Int32]]
        var configs: [(name: String, value: String)]
    }

    private mutating func planTopic(_ topic: CreateTopicsRequest.CreatableTopic) throws(ApiError) -> TopicPlan {
        if let problem = TopicName.problem(with: topic.name) { throw ApiError(.invalidTopicException, problem) }
        if image.topicIdsByName[topic.name] != nil { throw ApiError(.topicAlreadyExists, "Topic '\(topic.name)' already exists.") }
        if let other = image.topicIdsByName.keys.sorted().first(where: { TopicName.collides(topic.name, with: $0) }) {
            throw ApiError(.invalidTopicException, "Topic '\(topic.name)' collides with existing topic: \(other)")
        }
        let replicas: [[Int32]]
        if topic.assignments.isEmpty {
            let partitions = topic.numPartitions == -1 ? config.defaultPartitions : topic.numPartitions
            let factor = topic.replicationFactor == -1 ? config.defaultReplicationFactor : topic.replicationFactor
            if partitions <= 0 { throw ApiError(.invalidPartitions, "Number of partitions was set to an invalid non-positive value.") }
            try Self.checkPartitionLimit(partitions)
            if factor <= 0 { throw ApiError(.invalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.") }
            replicas = try placement().place(first: 0, count: partitions, replicationFactor: factor)
        } else {
            if topic.replicationFactor != -1 {
                throw ApiError(.invalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1.")
            }
            if topic.numPartitions != -1 {
                throw ApiError(.invalidRequest, "A manual partition assignment was specified, but numPartitions was not set to -1.")
            }
            try Self.checkPartitionLimit(Int32(clamping: topic.assignments.count))
            var byIndex: [Int32: [Int32]] = [:]
            for assignment in topic.assignments {
                if byIndex[assignment.partitionIndex] != nil {
                    throw ApiError(.invalidReplicaAssignment, "Found multiple manual partition assignments for partition \(assignment.partitionIndex)")
                }
                try validateManualAssignment(assignment.brokerIds, partition: assignment.partitionIndex, factor: byIndex.values.first?.count)
                byIndex[assignment.partitionIndex] = assignment.brokerIds
            }
            replicas = try (0..<Int32(byIndex.count)).map { (index: Int32) throws(ApiError) -> [Int32] in
                guard let brokers = byIndex[index] else {
                    throw ApiError(.invalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
                }
                return brokers
            }
        }
        var configs: [(name: String, value: String)] = []
        for entry in topic.configs {
            guard let value = entry.value else { throw ApiError(.invalidConfig, "Null value not supported for topic configs: \(entry.name)") }
            if let problem = config.topicConfigs.problem(name: entry.name, value: value) { throw ApiError(.invalidConfig, problem) }
            configs.removeAll { $0.name == entry.name }
            configs.append((entry.name, value))
        }
        return TopicPlan(name: topic.name, id: newTopicId(), replicas: replicas, configs: configs)
    }

    /// TopicRecord, then its ConfigRecords, then a PartitionRecord per partition (Kafka's order).
    private mutating func create(_ plan: TopicPlan, into batch: inout PendingRecords) {
        emit(.topic(TopicRecord(name: plan.name, topicId: plan.id)), into: &batch)
        for entry in plan.configs {
            emit(.config(ConfigRecord(resourceType: ConfigResource.Kind.topic.rawValue, resourceName: plan.name, name: entry.name, value: entry.value)), into: &batch)
        }
        addPartitions(plan.replicas, from: 0, topicId: plan.id, into: &batch)
    }

    /// A random id that is in use by no topic and is neither the zero id nor the metadata topic's.
    private mutating func newTopicId() -> KafkaUUID {
        while true {
            let id = KafkaUUID.random(using: &random)
            if id.mostSignificantBits != 0 && image.topicsById[id] == nil { return id }
        }
    }
}
