import MartletProtocol

/// DeleteRecords (key 21): moves a partition's log start offset forward ("delete everything before
/// offset"; -1 means the high watermark), dropping whole segments below it.
struct DeleteRecordsHandler: ApiHandler {
    typealias Request = DeleteRecordsRequest
    let versions: ClosedRange<Int16> = 0...2
    let broker: BrokerCore

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) async -> HandlerOutcome<DeleteRecordsResponse> {
        var topics: [DeleteRecordsResponse.DeleteRecordsTopicResult] = []
        for topic in request.topics {
            var results: [DeleteRecordsResponse.DeleteRecordsPartitionResult] = []
            for wanted in topic.partitions {
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult(
                    partitionIndex: wanted.partitionIndex, lowWatermark: -1, errorCode: 0)
                if let partition = broker.replicas.partition(TopicPartition(topic.name, wanted.partitionIndex)) {
                    do {
                        result.lowWatermark = try await partition.deleteRecords(before: wanted.offset)
                    } catch {
                        result.errorCode = error.code.rawValue
                    }
                } else {
                    result.errorCode = await broker.absentPartitionError(TopicPartition(topic.name, wanted.partitionIndex)).rawValue
                }
                results.append(result)
            }
            topics.append(.init(name: topic.name, partitions: results))
        }
        return .respond(DeleteRecordsResponse(throttleTimeMs: 0, topics: topics))
    }
}
