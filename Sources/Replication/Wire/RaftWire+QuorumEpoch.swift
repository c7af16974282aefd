import MartletProtocol

/// BeginQuorumEpoch (API 53) and EndQuorumEpoch (API 54) at v1: a new leader announcing itself, and a
/// resigning one naming its preferred successors. Both requests carry the leader's listeners (KIP-853),
/// which a Kafka voter needs to reach a leader it learns of this way.
extension RaftWire {
    static func beginQuorumEpochRequest(
        _ request: RaftBeginQuorumEpochRequest, to: ReplicaID, context: RaftWireContext
    ) -> BeginQuorumEpochRequest {
        BeginQuorumEpochRequest(
            clusterId: context.clusterId, voterId: to,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(partitionIndex: RaftWireContext.metadataPartition, leaderId: request.leaderId, leaderEpoch: request.epoch)
                    ])
            ],
            leaderEndpoints: leaderEndpoints(request.leaderId, context).map {
                .init(name: $0.listener, host: $0.host, port: $0.port)
            })
    }

    static func inboundBeginQuorumEpoch(
        _ request: BeginQuorumEpochRequest, version: Int16, context: RaftWireContext
    ) throws(RaftWireError) -> RaftInbound {
        try context.checkClusterId(request.clusterId)
        if version >= 1 { try context.checkVoterId(request.voterId) }
        let partition = try metadataPartition(request.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        guard partition.leaderId >= 0 else { throw .invalidField("leader id \(partition.leaderId)") }
        try nonNegative(Int64(partition.leaderEpoch), "leader epoch")
        return RaftInbound(
            from: partition.leaderId,
            message: .beginQuorumEpoch(RaftBeginQuorumEpochRequest(epoch: partition.leaderEpoch, leaderId: partition.leaderId)))
    }

    static func beginQuorumEpochResponse(_ response: RaftEpochResponse, context: RaftWireContext) -> BeginQuorumEpochResponse {
        BeginQuorumEpochResponse(
            errorCode: KafkaErrorCode.none.rawValue,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partitionIndex: RaftWireContext.metadataPartition, errorCode: response.error.rawValue,
                            leaderId: wireId(response.leaderId), leaderEpoch: response.epoch)
                    ])
            ],
            nodeEndpoints: leaderEndpoint(response.leaderId, context).map {
                [.init(nodeId: $0.id, host: $0.endpoint.host, port: $0.endpoint.port)]
            } ?? [])
    }

    static func epochResponse(_ response: BeginQuorumEpochResponse) throws(RaftWireError) -> RaftEpochResponse {
        try checkTopLevel(.beginQuorumEpoch, response.errorCode)
        let partition = try metadataPartition(response.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        return RaftEpochResponse(
            error: KafkaErrorCode(wire: partition.errorCode), epoch: partition.leaderEpoch, leaderId: coreId(partition.leaderId))
    }

    static func endQuorumEpochRequest(_ request: RaftEndQuorumEpochRequest, context: RaftWireContext) -> EndQuorumEpochRequest {
        EndQuorumEpochRequest(
            clusterId: context.clusterId,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partitionIndex: RaftWireContext.metadataPartition, leaderId: request.leaderId,
                            leaderEpoch: request.epoch, preferredSuccessors: request.preferredSuccessors,
                            preferredCandidates: request.preferredSuccessors.map { .init(candidateId: $0) })
                    ])
            ],
            leaderEndpoints: leaderEndpoints(request.leaderId, context).map {
                .init(name: $0.listener, host: $0.host, port: $0.port)
            })
    }

    /// v0 names the successors by id; v1 by replica key (id and directory), of which the core uses the id.
    static func inboundEndQuorumEpoch(
        _ request: EndQuorumEpochRequest, version: Int16, context: RaftWireContext
    ) throws(RaftWireError) -> RaftInbound {
        try context.checkClusterId(request.clusterId)
        let partition = try metadataPartition(request.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        guard partition.leaderId >= 0 else { throw .invalidField("leader id \(partition.leaderId)") }
        try nonNegative(Int64(partition.leaderEpoch), "leader epoch")
        let successors = version >= 1 ? partition.preferredCandidates.map(\.candidateId) : partition.preferredSuccessors
        return RaftInbound(
            from: partition.leaderId,
            message: .endQuorumEpoch(RaftEndQuorumEpochRequest(
                epoch: partition.leaderEpoch, leaderId: partition.leaderId, preferredSuccessors: successors)))
    }

    static func endQuorumEpochResponse(_ response: RaftEpochResponse, context: RaftWireContext) -> EndQuorumEpochResponse {
        EndQuorumEpochResponse(
            errorCode: KafkaErrorCode.none.rawValue,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partitionIndex: RaftWireContext.metadataPartition, errorCode: response.error.rawValue,
                            leaderId: wireId(response.leaderId), leaderEpoch: response.epoch)
                    ])
            ],
            nodeEndpoints: leaderEndpoint(response.leaderId, context).map {
                [.init(nodeId: $0.id, host: $0.endpoint.host, port: $0.endpoint.port)]
            } ?? [])
    }

    static func epochResponse(_ response: EndQuorumEpochResponse) throws(RaftWireError) -> RaftEpochResponse {
        try checkTopLevel(.endQuorumEpoch, response.errorCode)
        let partition = try metadataPartition(response.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        return RaftEpochResponse(
            error: KafkaErrorCode(wire: partition.errorCode), epoch: partition.leaderEpoch, leaderId: coreId(partition.leaderId))
    }

    private static func leaderEndpoints(_ leaderId: ReplicaID, _ context: RaftWireContext) -> [RaftEndpoint] {
        context.endpoints[leaderId] ?? []
    }
}
