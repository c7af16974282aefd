import MartletProtocol

/// DescribeQuorum (key 55) on a broker under the controllers: forwarded to the active controller and its
/// answer relayed, as Kafka's brokers do, so `kafka-metadata-quorum --bootstrap-server` and
/// `kafka-python admin cluster describe-quorum` work when pointed at a broker. Brokers appear in it as
/// observers.
struct DescribeQuorumForwardingHandler: ApiHandler {
    typealias Request = DescribeQuorumRequest
    let versions: ClosedRange<Int16> = 0...2
    let channel: ControllerChannel

    func handle(_ request: DescribeQuorumRequest, context: RequestContext) async -> HandlerOutcome<DescribeQuorumResponse> {
        do {
            return .respond(try await channel.send(
                request, version: context.apiVersion, timeoutMs: ClusterMetadataStore.controllerTimeoutMs,
                isNotController: { response in
                    response.errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue
                        || response.topics.contains { $0.partitions.contains { $0.errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue } }
                }))
        } catch {
            return .respond(DescribeQuorumResponse(errorCode: error.code.rawValue, errorMessage: error.message))
        }
    }
}
