import MartletProtocol

/// FindCoordinator (key 10): which node coordinates a group. This node leads every partition of
/// `__consumer_offsets`, so it is the answer for every group, once the topic exists (the first lookup
/// creates it, as Kafka does) and the group's partition is loaded. v4+ batch several keys.
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
            if let error = await groups.prepareToCoordinate(key) { return failure(error.code, error.message) }
            guard let listener = broker.config.advertisedListeners.first else {
                return failure(.coordinatorNotAvailable, "This node advertises no listener.")
            }
            return .init(key: key, nodeId: broker.config.nodeId, host: listener.host, port: Int32(listener.port), errorCode: 0, errorMessage: nil)
        case .transaction:
            return failure(.transactionalIdAuthorizationFailed, "Transactions are not supported by this broker yet.")
        case .share, nil:
            return failure(.invalidRequest, "Unsupported coordinator key type \(type).")
        }
    }
}
