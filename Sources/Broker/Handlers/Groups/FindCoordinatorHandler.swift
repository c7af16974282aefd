import MartletProtocol

/// FindCoordinator (key 10): which node coordinates a group: the leader of the group's partition of
/// `__consumer_offsets`, once the topic exists (the first lookup creates it, as Kafka does) and, when
/// that is this node, the partition is loaded. v4+ batch several keys.
///
/// Transaction coordinators do not exist yet: a transactional producer is refused with
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (fatal to the client, as InitProducerId answers it) rather than
/// being left to retry forever.
struct FindCoordinatorHandler: ApiHandler {
    typealias Request = FindCoordinatorRequest
    let versions: ClosedRange<Int16> = 0...6
    let broker: BrokerCore
    let groups: GroupCoordinator

    /// Kafka's `CoordinatorType`.
    enum KeyType: Int8 {
        case group = 0, transaction = 1, share = 2
    }

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> HandlerOutcome<FindCoordinatorResponse> {
        if context.apiVersion >= 4 {
            var coordinators: [FindCoordinatorResponse.Coordinator] = []
            for key in request.coordinatorKeys {
                coordinators.append(await find(key, type: request.keyType))
            }
            return .respond(FindCoordinatorResponse(coordinators: coordinators))
        }
        let found = await find(request.key, type: context.apiVersion >= 1 ? request.keyType : KeyType.group.rawValue)
        return .respond(FindCoordinatorResponse(
            errorCode: found.errorCode, errorMessage: found.errorMessage, nodeId: found.nodeId, host: found.host, port: found.port))
    }

    private func find(_ key: String, type: Int8) async -> FindCoordinatorResponse.Coordinator {
        func failure(_ code: KafkaErrorCode, _ message: String) -> FindCoordinatorResponse.Coordinator {
            .init(key: key, nodeId: -1, host: "", port: -1, errorCode: code.rawValue, errorMessage: message)
        }
        switch KeyType(rawValue: type) {
        case .group:
            if key.isEmpty { return failure(.invalidRequest, "Group id must not be empty.") }
            let node: Int32
            switch await groups.coordinator(for: key) {
            case .success(let leader): node = leader
            case .failure(let error): return failure(error.code, error.message)
            }
            guard let endpoint = await broker.metadata.liveBrokers().first(where: { $0.id == node }) else {
                return failure(.coordinatorNotAvailable, "The coordinator \(node) is not available.")
            }
            return .init(key: key, nodeId: node, host: endpoint.host, port: endpoint.port, errorCode: 0, errorMessage: nil)
        case .transaction:
            return failure(.transactionalIdAuthorizationFailed, "Transactions are not supported by this broker yet.")
        case .share, nil:
            return failure(.invalidRequest, "Unsupported coordinator key type \(type).")
        }
    }
}
