import MartletProtocol

/// DescribeQuorum (API 55) at v2: what `kafka-metadata-quorum describe` shows, answered from the leader's
/// `QuorumDescription`. Unlike the other KRaft RPCs it comes from admin clients, so it is answered
/// here in full rather than through the core.
extension RaftWire {
    /// The answer to `request`: the quorum as the leader sees it, NOT_LEADER_OR_FOLLOWER if this node
    /// does not lead (`description` nil), UNKNOWN_TOPIC_OR_PARTITION for anything but
    /// `__cluster_metadata-0` (as Kafka answers both). Replicas' times are the driver's clock, which
    /// must be wall-clock milliseconds for the timestamps to mean anything to a client.
    public static func describeQuorumResponse(
        to request: DescribeQuorumRequest, description: QuorumDescription?, context: RaftWireContext
    ) -> DescribeQuorumResponse {
        let isMetadataPartition: Bool
        do throws(RaftWireError) {
            _ = try metadataPartition(request.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
            isMetadataPartition = true
        } catch {
            isMetadataPartition = false
        }
        var partition = DescribeQuorumResponse.PartitionData(partitionIndex: RaftWireContext.metadataPartition, errorMessage: nil)
        if !isMetadataPartition {
            partition.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
            partition.leaderId = -1
            partition.leaderEpoch = -1
        } else if let description {
            partition.leaderId = description.leaderId
            partition.leaderEpoch = description.epoch
            partition.highWatermark = description.highWatermark
            partition.currentVoters = description.voters.map(replicaState)
            partition.observers = description.observers.map(replicaState)
        } else {
            partition.errorCode = KafkaErrorCode.notLeaderOrFollower.rawValue
            partition.leaderId = -1
            partition.leaderEpoch = -1
        }
        let nodes = (description?.voters ?? []).compactMap { voter -> DescribeQuorumResponse.Node? in
            guard let endpoints = context.endpoints[voter.replicaId] else { return nil }
            return .init(nodeId: voter.replicaId, listeners: endpoints.map { .init(name: $0.listener, host: $0.host, port: $0.port) })
        }
        return DescribeQuorumResponse(
            errorMessage: nil,
            topics: [.init(topicName: RaftWireContext.metadataTopic, partitions: [partition])],
            nodes: isMetadataPartition ? nodes : [])
    }

    /// A DescribeQuorum response read back (by an admin tool, or a test): the leader's end offset is its
    /// own entry among the voters.
    public static func quorumDescription(from response: DescribeQuorumResponse) throws(RaftWireError) -> QuorumDescription {
        try checkTopLevel(.describeQuorum, response.errorCode)
        let partition = try metadataPartition(response.topics, name: \.topicName, partitions: \.partitions, index: \.partitionIndex)
        guard partition.errorCode == KafkaErrorCode.none.rawValue else {
            throw .errorResponse(.describeQuorum, KafkaErrorCode(wire: partition.errorCode))
        }
        guard let leader = partition.currentVoters.first(where: { $0.replicaId == partition.leaderId }) else {
            throw .invalidField("leader \(partition.leaderId) is not among the voters")
        }
        func replica(_ state: DescribeQuorumResponse.ReplicaState) -> QuorumDescription.Replica {
            .init(
                replicaId: state.replicaId, logEndOffset: state.logEndOffset, lastFetchMs: state.lastFetchTimestamp,
                lastCaughtUpMs: state.lastCaughtUpTimestamp)
        }
        return QuorumDescription(
            leaderId: partition.leaderId, epoch: partition.leaderEpoch, highWatermark: partition.highWatermark,
            leaderEndOffset: leader.logEndOffset, voters: partition.currentVoters.map(replica),
            observers: partition.observers.map(replica))
    }

    private static func replicaState(_ replica: QuorumDescription.Replica) -> DescribeQuorumResponse.ReplicaState {
        .init(
            replicaId: replica.replicaId, logEndOffset: replica.logEndOffset, lastFetchTimestamp: replica.lastFetchMs,
            lastCaughtUpTimestamp: replica.lastCaughtUpMs)
    }
}
