import Logging
import MartletClients
import MartletProtocol
import MartletReplication

/// A broker's way to the active controller (Kafka's `NodeToControllerChannelManager`): requests go to
/// the leader the metadata log follower knows, else to the voters in turn, and are sent again to the
/// next candidate while the answer is NOT_CONTROLLER or the connection fails, until the deadline. So a
/// controller failover delays a forwarded request instead of failing it.
struct ControllerChannel: Sendable {
    private let peers: RaftPeers
    /// The active controller as far as this broker knows (the metadata leader), nil while unknown.
    private let knownLeader: @Sendable () async -> ReplicaID?
    private let logger: Logger

    /// How long to wait before trying the next controller, so a quorum without a leader is not hammered.
    static let retryBackoffMs: Int64 = 100

    init(config: BrokerConfig, knownLeader: @escaping @Sendable () async -> ReplicaID?, logger: Logger) {
        peers = RaftPeers(voters: config.quorumVoters, localId: config.nodeId, clientId: "broker-\(config.nodeId)-to-controller")
        self.knownLeader = knownLeader
        self.logger = logger
    }

    /// Sends `request` until a controller answers with something other than NOT_CONTROLLER (as
    /// `isNotController` reads the response) or `timeoutMs` runs out; throws the last failure then.
    func send<Request: KafkaRequest>(
        _ request: Request, version: Int16, timeoutMs: Int64, isNotController: (Request.Response) -> Bool
    ) async throws(BrokerError) -> Request.Response {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var attempt = 0
        var lastProblem = "no controller answered"
        var failed: ReplicaID?
        while ContinuousClock.now < deadline {
            if Task.isCancelled { throw BrokerError(.requestTimedOut, "\(Request.apiKey.name) to the controller was cancelled") }
            let voters = peers.voterIds
            var target = voters[attempt % voters.count]
            if let leader = await knownLeader(), leader != failed { target = leader }
            attempt += 1
            failed = target  // cleared by returning; any other outcome makes the next attempt go elsewhere
            if let connection = peers.connection(to: target) {
                let remainingMs = max(1, Int64((deadline - ContinuousClock.now) / .milliseconds(1)))
                do {
                    let response = try await connection.send(request, version: version, timeoutMs: min(remainingMs, 5_000))
                    if !isNotController(response) { return response }
                    lastProblem = "controller \(target) is not the active controller"
                } catch {
                    lastProblem = "controller \(target): \(error)"
                }
            }
            logger.debug("\(Request.apiKey.name) to the controller: \(lastProblem)")
            try? await Task.sleep(for: .milliseconds(Self.retryBackoffMs))
        }
        throw BrokerError(.requestTimedOut, "\(Request.apiKey.name) was not answered by the active controller in time: \(lastProblem)")
    }

    func close() async { await peers.close() }
}
