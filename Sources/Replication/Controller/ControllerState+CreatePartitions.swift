import MartletProtocol

/// CreatePartitions (`ReplicationControlManager.createPartitions`): topics only grow, each answered on
/// its own.
extension ControllerState {
    /// Grows topics to the requested partition count, placing new partitions like new topics (or as
    /// assigned), with the replication factor of partition 0.
    public mutating func createPartitions(_ request: CreatePartitionsRequest, nextOffset: Int64) -> ControllerResult<CreatePartitionsResponse> {
        var batch = PendingRecords(firstOffset: nextOffset)
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
}
