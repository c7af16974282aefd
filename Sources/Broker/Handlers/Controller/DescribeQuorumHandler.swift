import MartletProtocol
import MartletReplication

/// DescribeQuorum (key 55) on a controller: the leader's view of the voters and observers, what
/// `kafka-metadata-quorum describe` and `martlet cluster quorum` show. Another node answers
/// NOT_LEADER_OR_FOLLOWER as Kafka does, and also names the leader it knows (its id and epoch, and its
/// endpoint from v2) so that a tool given any controller can find the active one; Kafka's clients
/// ignore those fields in an error.
struct DescribeQuorumHandler: ApiHandler {
    typealias Request = DescribeQuorumRequest
    let versions: ClosedRange<Int16> = 0...2
    let driver: RaftDriver

    func handle(_ request: DescribeQuorumRequest, context: RequestContext) async -> HandlerOutcome<DescribeQuorumResponse> {
        let description = await driver.describeQuorum()
        let wire = driver.wireContext
        var response = RaftWire.describeQuorumResponse(to: request, description: description, context: wire)
        let status = await driver.status
        if description == nil, let leader = status.leaderId, response.topics.count == 1, response.topics[0].partitions.count == 1,
            response.topics[0].partitions[0].errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue
        {
            response.topics[0].partitions[0].leaderId = leader
            response.topics[0].partitions[0].leaderEpoch = status.epoch
            response.nodes = (wire.endpoints[leader] ?? []).map {
                .init(nodeId: leader, listeners: [.init(name: $0.listener, host: $0.host, port: $0.port)])
            }
        }
        return .respond(response)
    }
}
