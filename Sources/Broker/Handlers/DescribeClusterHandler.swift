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
        let node = broker.config.nodeId
        let brokers = broker.config.advertisedListeners.prefix(1).map {
            DescribeClusterResponse.DescribeClusterBroker(brokerId: node, host: $0.host, port: Int32($0.port), rack: nil)
        }
        return .respond(DescribeClusterResponse(
            throttleTimeMs: 0, errorCode: 0, errorMessage: nil, endpointType: 1, clusterId: broker.clusterId,
            controllerId: node, brokers: brokers, clusterAuthorizedOperations: Int32.min))
    }
}
