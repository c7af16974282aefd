import MartletProtocol
import NIOCore

/// Fetch (API 1) on `__cluster_metadata-0`, KRaft's replication RPC, at v17 by default. From v13 the
/// topic is named by its id (the fixed metadata topic id), from v15 the fetching replica by
/// `ReplicaState`; both forms are written, and each version reads its own. Entries travel as record
/// batches (`RaftRecords`); the leader's verdict on the fetch position is the diverging epoch or the
/// snapshot id of the partition, as Kafka's leader answers it.
extension RaftWire {
    static func fetchRequest(_ request: RaftFetchRequest, context: RaftWireContext) -> FetchRequest {
        let maxBytes = Int32(clamping: request.maxBytes)
        return FetchRequest(
            clusterId: context.clusterId, replicaId: request.replicaId,
            replicaState: .init(replicaId: request.replicaId),
            // The core polls and the leader answers at once; a Kafka leader would otherwise park the fetch.
            maxWaitMs: 0, maxBytes: maxBytes,
            topics: [
                .init(
                    topic: RaftWireContext.metadataTopic, topicId: RaftWireContext.metadataTopicId,
                    partitions: [
                        .init(
                            partition: RaftWireContext.metadataPartition, currentLeaderEpoch: request.currentLeaderEpoch,
                            fetchOffset: request.fetchOffset, lastFetchedEpoch: request.lastFetchedEpoch,
                            partitionMaxBytes: maxBytes)
                    ])
            ])
    }

    /// Kafka's checks before the fetch logic: the cluster, the partition (by id from v13), a replica id
    /// (a consumer's fetch of the metadata log is not a KRaft fetch) and a non-negative wait. The fetch
    /// position is the core's to check, as it answers a bad one with INVALID_REQUEST itself.
    static func inboundFetch(_ request: FetchRequest, version: Int16, context: RaftWireContext) throws(RaftWireError) -> RaftInbound {
        try context.checkClusterId(request.clusterId)
        let partition = try fetchPartition(request.topics, version: version)
        let replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId
        guard replicaId >= 0 else { throw .invalidField("fetch without a replica id (\(replicaId))") }
        guard request.maxWaitMs >= 0 else { throw .invalidField("max wait \(request.maxWaitMs)") }
        let fetch = RaftFetchRequest(
            replicaId: replicaId, currentLeaderEpoch: partition.currentLeaderEpoch, fetchOffset: partition.fetchOffset,
            lastFetchedEpoch: partition.lastFetchedEpoch, maxBytes: Int(request.maxBytes))
        return RaftInbound(from: replicaId, message: .fetch(fetch))
    }

    /// `recordTimestamp` is the CreateTime of the batches written for the entries (the core's entries
    /// carry none).
    static func fetchResponse(_ response: RaftFetchResponse, context: RaftWireContext, recordTimestamp: Int64) -> FetchResponse {
        var partition = FetchResponse.PartitionData(
            partitionIndex: RaftWireContext.metadataPartition, errorCode: response.error.rawValue,
            highWatermark: response.highWatermark, logStartOffset: response.logStartOffset,
            currentLeader: .init(leaderId: wireId(response.leaderId), leaderEpoch: response.epoch), records: ByteBuffer())
        switch response.outcome {
        case .records(let entries):
            partition.records = RaftRecords.batches(entries, timestamp: recordTimestamp)
        case .divergingEpoch(let end):
            partition.divergingEpoch = .init(epoch: end.epoch, endOffset: end.offset)
        case .snapshot(let id):
            partition.snapshotId = .init(endOffset: id.offset, epoch: id.epoch)
        }
        return FetchResponse(
            responses: [
                .init(topic: RaftWireContext.metadataTopic, topicId: RaftWireContext.metadataTopicId, partitions: [partition])
            ],
            nodeEndpoints: leaderEndpoint(response.leaderId, context).map {
                [.init(nodeId: $0.id, host: $0.endpoint.host, port: Int32($0.endpoint.port))]
            } ?? [])
    }

    /// A diverging epoch or a snapshot id is present when its epoch is (Kafka's
    /// `FetchResponse.isDivergingEpoch`, and the snapshot test of `KafkaRaftClient`); records otherwise,
    /// of which a last batch cut at the leader's byte budget is left for the next fetch.
    static func fetchResponse(
        _ response: FetchResponse, answering request: RaftFetchRequest, version: Int16
    ) throws(RaftWireError) -> RaftFetchResponse {
        try checkTopLevel(.fetch, response.errorCode)
        guard response.responses.count == 1, let topic = response.responses.first else {
            throw .notMetadataPartition("\(response.responses.count) topics")
        }
        try checkMetadataTopic(name: topic.topic, id: topic.topicId, version: version)
        let partition = try onlyPartitionZero(topic.partitions, index: \.partitionIndex)
        let outcome: RaftFetchResponse.Outcome
        if partition.divergingEpoch.epoch >= 0 {
            try nonNegative(partition.divergingEpoch.endOffset, "diverging end offset")
            outcome = .divergingEpoch(OffsetAndEpoch(offset: partition.divergingEpoch.endOffset, epoch: partition.divergingEpoch.epoch))
        } else if partition.snapshotId.epoch >= 0 || partition.snapshotId.endOffset >= 0 {
            try nonNegative(partition.snapshotId.endOffset, "snapshot end offset")
            try nonNegative(Int64(partition.snapshotId.epoch), "snapshot epoch")
            outcome = .snapshot(OffsetAndEpoch(offset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch))
        } else {
            outcome = .records(try RaftRecords.entries(from: partition.records ?? ByteBuffer(), trailing: .ignoreIfPartial))
        }
        return RaftFetchResponse(
            error: KafkaErrorCode(wire: partition.errorCode), epoch: partition.currentLeader.leaderEpoch,
            leaderId: coreId(partition.currentLeader.leaderId), highWatermark: partition.highWatermark,
            logStartOffset: partition.logStartOffset, outcome: outcome, fetchOffset: request.fetchOffset,
            lastFetchedEpoch: request.lastFetchedEpoch)
    }

    private static func fetchPartition(
        _ topics: [FetchRequest.FetchTopic], version: Int16
    ) throws(RaftWireError) -> FetchRequest.FetchPartition {
        guard topics.count == 1, let topic = topics.first else { throw .notMetadataPartition("\(topics.count) topics") }
        try checkMetadataTopic(name: topic.topic, id: topic.topicId, version: version)
        return try onlyPartitionZero(topic.partitions, index: \.partition)
    }

    /// Fetch names the topic by id from v13, by name before.
    private static func checkMetadataTopic(name: String, id: KafkaUUID, version: Int16) throws(RaftWireError) {
        if version >= 13 {
            guard id == RaftWireContext.metadataTopicId else { throw .notMetadataPartition("topic id \(id)") }
        } else {
            guard name == RaftWireContext.metadataTopic else { throw .notMetadataPartition("topic \(name)") }
        }
    }
}
