import Foundation
import MartletProtocol
import NIOCore

/// Produce (key 0): appends each partition's record batch to its log and answers with the base offsets.
///
/// Advertised from v0 as Kafka 4 does (librdkafka < 2.11.1 checks Produce v0 before enabling compression,
/// KAFKA-18659), but v0-2 (message format v0/v1) are not decodable and close the connection, as in Kafka 4.
/// acks=0 sends no answer, and closes the connection if a write failed, as Kafka does; acks=-1 waits for the
/// in-sync replicas, which on one node is the leader itself.
struct ProduceHandler: ApiHandler {
    typealias Request = ProduceRequest
    let versions: ClosedRange<Int16> = 0...12
    let broker: BrokerCore

    typealias TopicResponse = ProduceResponse.TopicProduceResponse
    typealias PartitionResponse = ProduceResponse.PartitionProduceResponse

    func handle(_ request: ProduceRequest, context: RequestContext) async -> HandlerOutcome<ProduceResponse> {
        var topics: [TopicResponse] = []
        let now = SystemLogClock().milliseconds()
        for topicData in request.topicData {
            var partitions: [PartitionResponse] = []
            for partitionData in topicData.partitionData {
                partitions.append(await append(partitionData, topic: topicData.name, acks: request.acks, transactional: request.transactionalId != nil, now: now))
            }
            topics.append(TopicResponse(name: topicData.name, topicId: topicData.topicId, partitionResponses: partitions))
        }
        if request.acks == 0 {
            let failed = topics.flatMap(\.partitionResponses).first { $0.errorCode != 0 }
            return failed.map { .closeConnection(reason: "acks=0 produce failed: \($0.errorMessage ?? "error \($0.errorCode)")") } ?? .noResponse
        }
        return .respond(ProduceResponse(responses: topics, throttleTimeMs: 0))
    }

    private func append(
        _ data: ProduceRequest.PartitionProduceData, topic: String, acks: Int16, transactional: Bool, now: Int64
    ) async -> PartitionResponse {
        var response = PartitionResponse(index: data.index, errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
        func fail(_ code: KafkaErrorCode, _ message: String) -> PartitionResponse {
            response.errorCode = code.rawValue
            response.errorMessage = message
            return response
        }
        guard [-1, 0, 1].contains(acks) else {
            return fail(.invalidRequiredAcks, "acks must be -1, 0 or 1, not \(acks)")
        }
        guard !transactional else {
            return fail(.transactionalIdAuthorizationFailed, "transactions are not supported by this broker yet")
        }
        guard let partition = broker.replicas.partition(TopicPartition(topic, data.index)) else {
            let code = await broker.absentPartitionError(TopicPartition(topic, data.index))
            return fail(code, code == .notLeaderOrFollower ? "This server is not the leader for \(topic)-\(data.index)." : "This server does not host this topic-partition.")
        }
        guard let records = data.records, records.readableBytes > 0 else {
            return fail(.invalidRecord, "Produce request carries no records for \(topic)-\(data.index)")
        }
        do {
            let appended = try await partition.appendRecords(records, requiredAcks: acks, now: now)
            response.baseOffset = appended.baseOffset
            response.logAppendTimeMs = appended.logAppendTime
            response.logStartOffset = appended.logStartOffset
            return response
        } catch {
            if error.code != .duplicateSequenceNumber {
                broker.logger.debug("produce to \(topic)-\(data.index) refused: \(error)")
            }
            return fail(error.code, error.message)
        }
    }
}
