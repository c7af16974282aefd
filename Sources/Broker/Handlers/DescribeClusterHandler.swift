import MartletProtocol

/// DescribeCluster (key 60): the cluster id, the controller and the brokers.
struct DescribeClusterHandler: ApiHandler {
    typealias Request = DescribeClusterRequest
    let versions: ClosedRange<Int16> = 0...1
    let broker: BrokerCore

    func handle(_ request: DescribeClusterRequest, context: RequestContext) async -> HandlerOutcome<DescribeClusterResponse> {
        // Endpoint type 1 = brokers; 2 (controllers) is for clients bootstrapping from controllers.
        if context.apiVersion >= 1 && request.endpointType != 1 {
            return .respond(DescribeClusterResponse(
                errorCode: KafkaErrorCode.mismatchedEndpointType.rawValue,
                errorMessage: "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type \(request.endpointType)",
                endpointType: 1))
        }
        let brokers = await broker.metadata.liveBrokers().map {
            DescribeClusterResponse.DescribeClusterBroker(brokerId: $0.id, host: $0.host, port: $0.port, rack: $0.rack)
        }
        return .respond(DescribeClusterResponse(
            throttleTimeMs: 0, errorCode: 0, errorMessage: nil, endpointType: 1, clusterId: broker.clusterId,
            controllerId: broker.config.nodeId, brokers: brokers, clusterAuthorizedOperations: Int32.min))
    }
}
