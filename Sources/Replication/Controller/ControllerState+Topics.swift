import MartletProtocol

/// CreateTopics, DeleteTopics and CreatePartitions (`ReplicationControlManager`), each topic validated
/// and answered on its own.
extension ControllerState {
    public mutating func createTopics(_ request: CreateTopicsRequest, nextOffset: Int64) -> ControllerResult<CreateTopicsResponse> {
        var batch = RecordBatch(firstOffset: nextOffset)
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
        if let problem = TopicNameRules.problem(with: topic.name) { throw ApiError(.invalidTopicException, problem) }
        if image.topicIdsByName[topic.name] != nil { throw ApiError(.topicAlreadyExists, "Topic '\(topic.name)' already exists.") }
        let metricName = TopicNameRules.metricName(topic.name)
        if let other = image.topicIdsByName.keys.sorted().first(where: { TopicNameRules.metricName($0) == metricName }) {
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

    /// Kafka's `validateManualPartitionAssignment`, plus its refusal of a partition with no active replica
    /// (it would start without a leader).
    private func validateManualAssignment(_ brokers: [Int32], partition: Int32, factor: Int?) throws(ApiError) {
        if brokers.isEmpty { throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.") }
        var seen: Set<Int32> = []
        for broker in brokers {
            if !seen.insert(broker).inserted {
                throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes the broker \(broker) more than once.")
            }
            if image.brokers[broker] == nil {
                throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes broker \(broker), but no such broker is registered.")
            }
        }
        if let factor, factor != brokers.count {
            throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes a partition with \(brokers.count) replica(s), but this is inconsistent with previous partitions, which have \(factor) replica(s).")
        }
        if !brokers.contains(where: { image.brokers[$0]?.isActive == true }) {
            throw ApiError(.invalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition \(partition) are fenced or in controlled shutdown.")
        }
    }

    /// TopicRecord, then its ConfigRecords, then a PartitionRecord per partition (Kafka's order).
    private mutating func create(_ plan: TopicPlan, into batch: inout RecordBatch) {
        emit(.topic(TopicRecord(name: plan.name, topicId: plan.id)), into: &batch)
        for entry in plan.configs {
            emit(.config(ConfigRecord(resourceType: ConfigResource.Kind.topic.rawValue, resourceName: plan.name, name: entry.name, value: entry.value)), into: &batch)
        }
        addPartitions(plan.replicas, from: 0, topicId: plan.id, into: &batch)
    }

    /// New partitions start at epoch 0 with the active replicas as ISR and the first of them leading.
    private mutating func addPartitions(_ replicas: [[Int32]], from first: Int32, topicId: KafkaUUID, into batch: inout RecordBatch) {
        for (offset, brokers) in replicas.enumerated() {
            let isr = brokers.filter { image.brokers[$0]?.isActive == true }
            emit(.partition(PartitionRecord(
                partitionId: first + Int32(offset), topicId: topicId, replicas: brokers, isr: isr,
                leader: isr.first ?? PartitionRegistration.noLeader, leaderEpoch: 0, partitionEpoch: 0)), into: &batch)
        }
    }

    /// Round-robin from a random start per topic, so successive topics do not all lead on the same broker.
    private mutating func placement() -> ReplicaPlacement {
        let active = image.activeBrokerIds
        let inactive = image.brokers.keys.filter { !active.contains($0) }.sorted()
        let start = active.isEmpty ? 0 : Int(random.next() % UInt64(active.count))
        return ReplicaPlacement(active: active, inactive: inactive, start: start)
    }

    /// A random id that is in use by no topic and is neither the zero id nor the metadata topic's.
    private mutating func newTopicId() -> KafkaUUID {
        while true {
            let id = KafkaUUID.random(using: &random)
            if id.mostSignificantBits != 0 && image.topicsById[id] == nil { return id }
        }
    }

    public mutating func deleteTopics(_ request: DeleteTopicsRequest, nextOffset: Int64) -> ControllerResult<DeleteTopicsResponse> {
        var batch = RecordBatch(firstOffset: nextOffset)
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

    /// Grows topics to the requested partition count, placing new partitions like new topics (or as
    /// assigned), with the replication factor of partition 0.
    public mutating func createPartitions(_ request: CreatePartitionsRequest, nextOffset: Int64) -> ControllerResult<CreatePartitionsResponse> {
        var batch = RecordBatch(firstOffset: nextOffset)
        let repeated = Self.repeated(request.topics.map(\.name))
        var results: [CreatePartitionsResponse.CreatePartitionsTopicResult] = []
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name, errorMessage: nil)
            do throws(ApiError) {
                if repeated.contains(topic.name) { throw ApiError(.invalidRequest, "Duplicate topic name.") }
                let (existing, replicas) = try planPartitions(topic)
                if !request.validateOnly {
                    addPartitions(replicas, from: Int32(existing.partitions.count), topicId: existing.id, into: &batch)
                }
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            results.append(result)
        }
        return ControllerResult(records: batch.records, response: CreatePartitionsResponse(results: results))
    }

    private mutating func planPartitions(_ topic: CreatePartitionsRequest.CreatePartitionsTopic) throws(ApiError) -> (TopicImage, [[Int32]]) {
        guard let existing = image.topic(named: topic.name) else {
            throw ApiError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        let current = Int32(existing.partitions.count)
        if topic.count == current { throw ApiError(.invalidPartitions, "Topic already has \(current) partition(s).") }
        if topic.count < current {
            throw ApiError(.invalidPartitions, "The topic \(topic.name) currently has \(current) partition(s); \(topic.count) would not be an increase.")
        }
        let additional = topic.count - current
        try Self.checkPartitionLimit(additional)
        let factor = existing.partitions[0]?.replicas.count ?? 1
        guard let assignments = topic.assignments else {
            return (existing, try placement().place(first: current, count: additional, replicationFactor: Int16(factor)))
        }
        if assignments.count != additional {
            throw ApiError(.invalidReplicaAssignment, "Attempted to add \(additional) additional partition(s), but only \(assignments.count) assignment(s) were specified.")
        }
        for (offset, assignment) in assignments.enumerated() {
            try validateManualAssignment(assignment.brokerIds, partition: current + Int32(offset), factor: factor)
        }
        return (existing, assignments.map(\.brokerIds))
    }

    /// The most partitions one topic may gain in one request. Kafka bounds the records of one operation
    /// (`QuorumController.MAX_RECORDS_PER_USER_OP`, 10,000); this keeps a request for two billion
    /// partitions from building two billion records.
    static let maxNewPartitionsPerTopic: Int32 = 10_000

    private static func checkPartitionLimit(_ count: Int32) throws(ApiError) {
        if count > maxNewPartitionsPerTopic {
            throw ApiError(.invalidPartitions, "Unable to add \(count) partitions in one request: the limit is \(maxNewPartitionsPerTopic).")
        }
    }

    /// The values that occur more than once, which Kafka refuses individually rather than failing the request.
    static func repeated<Value: Hashable>(_ values: [Value]) -> Set<Value> {
        var seen: Set<Value> = []
        return Set(values.filter { !seen.insert($0).inserted })
    }
}
