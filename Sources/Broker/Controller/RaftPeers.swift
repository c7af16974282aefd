import MartletClients
import MartletReplication

/// The connections to the other voters, one each, opened on first use and re-opened with backoff
/// after a failure (`KafkaConnection`). The Raft driver sends the quorum's requests on them; a broker's
/// `ControllerChannel` its requests to the active controller.
struct RaftPeers: Sendable {
    private let connections: [ReplicaID: KafkaConnection]

    init(voters: [QuorumVoter], localId: ReplicaID, clientId: String? = nil) {
        connections = Dictionary(uniqueKeysWithValues: voters.filter { $0.id != localId }.map {
            ($0.id, KafkaConnection(host: $0.host, port: $0.port, clientId: clientId ?? "raft-client-\(localId)"))
        })
    }

    /// The voters there are connections to.
    var voterIds: [ReplicaID] { connections.keys.sorted() }

    /// The connection to `voter`, nil for a replica that is not another voter (the core only sends
    /// requests to voters).
    func connection(to voter: ReplicaID) -> KafkaConnection? { connections[voter] }

    func close() async {
        for connection in connections.values { await connection.close() }
    }
}
