import MartletProtocol

/// ListOffsets (key 2): the offset for a timestamp, or for the special "timestamps" -2 (earliest), -1
/// (latest), -3 (max timestamp), -4 (earliest local), -5 (latest tiered).
struct ListOffsetsHandler: ApiHandler {
    typealias Request = ListOffsetsRequest
    let versions: ClosedRange<Int16> = 1...10
    let broker: BrokerCore

    typealias PartitionResponse = ListOffsetsResponse.ListOffsetsPartitionResponse

    static let latest: Int64 = -1
    static let earliest: Int64 = -2
    static let maxTimestamp: Int64 = -3
    static let earliestLocal: Int64 = -4
    static let latestTiered: Int64 = -5

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async -> HandlerOutcome<ListOffsetsResponse> {
        var topics: [ListOffsetsResponse.ListOffsetsTopicResponse] = []
        for topic in request.topics {
            var partitions: [PartitionResponse] = []
            for wanted in topic.partitions {
                partitions.append(await offset(topic: topic.name, wanted, readCommitted: request.isolationLevel == 1))
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        return .respond(ListOffsetsResponse(throttleTimeMs: 0, topics: topics))
    }

    private func offset(topic: String, _ wanted: ListOffsetsRequest.ListOffsetsPartition, readCommitted: Bool) async -> PartitionResponse {
        var response = PartitionResponse(partitionIndex: wanted.partitionIndex, errorCode: 0, timestamp: -1, offset: -1, leaderEpoch: -1)
        guard let partition = broker.replicas.partition(TopicPartition(topic, wanted.partitionIndex)) else {
            response.errorCode = await broker.absentPartitionError(TopicPartition(topic, wanted.partitionIndex)).rawValue
            return response
        }
        if let problem = await partition.checkLeaderEpoch(wanted.currentLeaderEpoch) {
            response.errorCode = problem.rawValue
            return response
        }
        let offsets = await partition.offsets
        response.leaderEpoch = await partition.leaderEpoch
        do {
            switch wanted.timestamp {
            case Self.earliest, Self.earliestLocal:
                response.offset = offsets.logStartOffset
            case Self.latest, Self.latestTiered:
                response.offset = offsets.highWatermark
            case Self.maxTimestamp:
                if let found = try await partition.maxTimestampOffset() {
                    response.offset = found.offset
                    response.timestamp = found.timestamp
                }
            default:
                if let found = try await partition.offset(forTimestamp: wanted.timestamp), found.offset < offsets.highWatermark {
                    response.offset = found.offset
                    response.timestamp = found.timestamp
                }
            }
        } catch {
            response.errorCode = error.code.rawValue
        }
        return response
    }
}
