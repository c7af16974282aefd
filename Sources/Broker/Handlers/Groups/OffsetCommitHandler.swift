import MartletProtocol

/// OffsetCommit (key 8): stores a group's consumed positions in `__consumer_offsets`; the answer comes once
/// they are written. Partitions of topics that do not exist get UNKNOWN_TOPIC_OR_PARTITION, as Kafka
/// checks its metadata before the coordinator sees them. v10 (topic ids) is not served yet.
struct OffsetCommitHandler: ApiHandler {
    typealias Request = OffsetCommitRequest
    let versions: ClosedRange<Int16> = 2...9
    let broker: BrokerCore
    let groups: GroupCoordinator

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> HandlerOutcome<OffsetCommitResponse> {
        var known = request
        known.topics = []
        var unknown: [OffsetCommitResponse.OffsetCommitResponseTopic] = []
        for topic in request.topics {
            let partitionCount = await broker.metadata.topic(named: topic.name)?.partitionCount ?? 0
            var existing = topic
            existing.partitions = topic.partitions.filter { $0.partitionIndex >= 0 && $0.partitionIndex < partitionCount }
            let missing = topic.partitions.filter { $0.partitionIndex < 0 || $0.partitionIndex >= partitionCount }
            if !existing.partitions.isEmpty { known.topics.append(existing) }
            if !missing.isEmpty {
                unknown.append(Self.answer(topic.name, missing.map(\.partitionIndex), .unknownTopicOrPartition))
            }
        }
        var response: OffsetCommitResponse
        switch await groups.shard(for: request.groupId) {
        case .success(let shard):
            let version = context.apiVersion
            let committing = known
            response = await shard.perform(
                { state, now in state.commitOffsets(committing, apiVersion: version, now: now) },
                failed: { error, _ in Self.everyPartition(of: committing, error) })
        case .failure(let error):
            response = Self.everyPartition(of: known, error.code)
        }
        response.topics += unknown
        return .respond(response)
    }

    static func everyPartition(of request: OffsetCommitRequest, _ error: KafkaErrorCode) -> OffsetCommitResponse {
        OffsetCommitResponse(topics: request.topics.map { answer($0.name, $0.partitions.map(\.partitionIndex), error) })
    }

    static func answer(_ topic: String, _ partitions: [Int32], _ error: KafkaErrorCode) -> OffsetCommitResponse.OffsetCommitResponseTopic {
        .init(name: topic, partitions: partitions.map { .init(partitionIndex: $0, errorCode: error.rawValue) })
    }
}
