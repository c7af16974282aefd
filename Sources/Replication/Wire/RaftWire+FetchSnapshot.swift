import MartletProtocol
import NIOCore

/// FetchSnapshot (API 59) at v1: a follower downloading the leader's snapshot in chunks. A chunk is the
/// response's `UnalignedRecords`: bytes of the snapshot file from `position`, which need not end on a
/// batch boundary.
extension RaftWire {
    static func fetchSnapshotRequest(_ request: RaftFetchSnapshotRequest, context: RaftWireContext) -> FetchSnapshotRequest {
        FetchSnapshotRequest(
            clusterId: context.clusterId, replicaId: request.replicaId, maxBytes: Int32(clamping: request.maxBytes),
            topics: [
                .init(
                    name: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partition: RaftWireContext.metadataPartition, currentLeaderEpoch: request.currentLeaderEpoch,
                            snapshotId: .init(endOffset: request.snapshotId.offset, epoch: request.snapshotId.epoch),
                            position: request.position)
                    ])
            ])
    }

    /// The position and the snapshot id are the core's to check (it answers POSITION_OUT_OF_RANGE or
    /// SNAPSHOT_NOT_FOUND); here only what Kafka refuses before looking.
    static func inboundFetchSnapshot(_ request: FetchSnapshotRequest, context: RaftWireContext) throws(RaftWireError) -> RaftInbound {
        try context.checkClusterId(request.clusterId)
        let partition = try metadataPartition(request.topics, name: \.name, partitions: \.partitions, index: \.partition)
        guard request.replicaId >= 0 else { throw .invalidField("FetchSnapshot without a replica id (\(request.replicaId))") }
        let fetch = RaftFetchSnapshotRequest(
            replicaId: request.replicaId, currentLeaderEpoch: partition.currentLeaderEpoch,
            snapshotId: OffsetAndEpoch(offset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch),
            position: partition.position, maxBytes: Int(request.maxBytes))
        return RaftInbound(from: request.replicaId, message: .fetchSnapshot(fetch))
    }

    static func fetchSnapshotResponse(_ response: RaftFetchSnapshotResponse, context: RaftWireContext) -> FetchSnapshotResponse {
        FetchSnapshotResponse(
            topics: [
                .init(
                    name: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            index: RaftWireContext.metadataPartition, errorCode: response.error.rawValue,
                            snapshotId: .init(endOffset: response.snapshotId.offset, epoch: response.snapshotId.epoch),
                            currentLeader: .init(leaderId: wireId(response.leaderId), leaderEpoch: response.epoch),
                            size: response.size, position: response.position, unalignedRecords: ByteBuffer(bytes: response.bytes))
                    ])
            ],
            nodeEndpoints: leaderEndpoint(response.leaderId, context).map {
                [.init(nodeId: $0.id, host: $0.endpoint.host, port: $0.endpoint.port)]
            } ?? [])
    }

    static func fetchSnapshotResponse(_ response: FetchSnapshotResponse) throws(RaftWireError) -> RaftFetchSnapshotResponse {
        try checkTopLevel(.fetchSnapshot, response.errorCode)
        let partition = try metadataPartition(response.topics, name: \.name, partitions: \.partitions, index: \.index)
        return RaftFetchSnapshotResponse(
            error: KafkaErrorCode(wire: partition.errorCode), epoch: partition.currentLeader.leaderEpoch,
            leaderId: coreId(partition.currentLeader.leaderId),
            snapshotId: OffsetAndEpoch(offset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch),
            size: partition.size, position: partition.position, bytes: Array(partition.unalignedRecords.readableBytesView))
    }
}
