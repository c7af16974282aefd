import MartletProtocol

/// OffsetForLeaderEpoch (key 23): the end offset of a leader epoch, so a consumer that saw an older leader
/// can detect log truncation (KIP-320) and a follower knows where to truncate.
struct OffsetForLeaderEpochHandler: ApiHandler {
    typealias Request = OffsetForLeaderEpochRequest
    let versions: ClosedRange<Int16> = 2...4
    let broker: BrokerCore

    typealias EpochEndOffset = OffsetForLeaderEpochResponse.EpochEndOffset

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async -> HandlerOutcome<OffsetForLeaderEpochResponse> {
        var topics: [OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult] = []
        for topic in request.topics {
            var results: [EpochEndOffset] = []
            for wanted in topic.partitions {
                var result = EpochEndOffset(errorCode: 0, partition: wanted.partition, leaderEpoch: -1, endOffset: -1)
                if let partition = broker.replicas.partition(TopicPartition(topic.topic, wanted.partition)) {
                    if let problem = await partition.checkLeaderEpoch(wanted.currentLeaderEpoch) {
                        result.errorCode = problem.rawValue
                    } else {
                        let found = await partition.endOffset(forLeaderEpoch: wanted.leaderEpoch)
                        result.leaderEpoch = found.leaderEpoch
                        result.endOffset = found.endOffset
                    }
                } else {
                    result.errorCode = await broker.absentPartitionError(TopicPartition(topic.topic, wanted.partition)).rawValue
                }
                results.append(result)
            }
            topics.append(.init(topic: topic.topic, partitions: results))
        }
        return .respond(OffsetForLeaderEpochResponse(throttleTimeMs: 0, topics: topics))
    }
}
