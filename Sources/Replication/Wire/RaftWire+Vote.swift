import MartletProtocol

/// Vote (API 52) at v2, where KIP-996's `PreVote` flag lets a prospective node ask for pre-votes over
/// the same RPC. The response does not echo the flag; the requester knows it from its request.
extension RaftWire {
    static func voteRequest(_ request: RaftVoteRequest, to: ReplicaID, context: RaftWireContext) -> VoteRequest {
        VoteRequest(
            clusterId: context.clusterId, voterId: to,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partitionIndex: RaftWireContext.metadataPartition, candidateEpoch: request.epoch,
                            candidateId: request.candidateId, lastOffsetEpoch: request.lastEpoch,
                            lastOffset: request.endOffset, preVote: request.preVote)
                    ])
            ])
    }

    /// Kafka's checks before the vote logic: the cluster, the voter addressed, the partition, and a
    /// sane candidate position.
    static func inboundVote(_ request: VoteRequest, version: Int16, context: RaftWireContext) throws(RaftWireError) -> RaftInbound {
        try context.checkClusterId(request.clusterId)
        if version >= 1 { try context.checkVoterId(request.voterId) }
        let partition = try metadataPartition(request.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        guard partition.candidateId >= 0 else { throw .invalidField("candidate id \(partition.candidateId)") }
        try nonNegative(Int64(partition.candidateEpoch), "candidate epoch")
        try nonNegative(Int64(partition.lastOffsetEpoch), "last epoch")
        try nonNegative(partition.lastOffset, "last offset")
        let vote = RaftVoteRequest(
            epoch: partition.candidateEpoch, candidateId: partition.candidateId, lastEpoch: partition.lastOffsetEpoch,
            endOffset: partition.lastOffset, preVote: partition.preVote)
        return RaftInbound(from: partition.candidateId, message: .vote(vote))
    }

    static func voteResponse(_ response: RaftVoteResponse, context: RaftWireContext) -> VoteResponse {
        VoteResponse(
            errorCode: KafkaErrorCode.none.rawValue,
            topics: [
                .init(
                    topicName: RaftWireContext.metadataTopic,
                    partitions: [
                        .init(
                            partitionIndex: RaftWireContext.metadataPartition, errorCode: response.error.rawValue,
                            leaderId: wireId(response.leaderId), leaderEpoch: response.epoch, voteGranted: response.granted)
                    ])
            ],
            nodeEndpoints: leaderEndpoint(response.leaderId, context).map {
                [.init(nodeId: $0.id, host: $0.endpoint.host, port: $0.endpoint.port)]
            } ?? [])
    }

    static func voteResponse(_ response: VoteResponse, answering request: RaftVoteRequest) throws(RaftWireError) -> RaftVoteResponse {
        try checkTopLevel(.vote, response.errorCode)
        let partition = try metadataPartition(response.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        return RaftVoteResponse(
            error: KafkaErrorCode(wire: partition.errorCode), epoch: partition.leaderEpoch, leaderId: coreId(partition.leaderId),
            granted: partition.voteGranted, preVote: request.preVote)
    }
}
