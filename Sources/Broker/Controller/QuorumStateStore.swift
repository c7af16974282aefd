import Foundation
import MartletReplication

/// The `quorum-state` file in `__cluster_metadata-0` (Kafka's `FileQuorumStateStore`): the epoch, the
/// vote and the known leader. Written atomically and fsynced before any message that depends on it goes
/// out, so a restarted voter can never vote twice in one epoch.
struct QuorumStateStore {
    static let fileName = "quorum-state"

    let path: String
    /// The static voter set written into the file and checked against on load.
    let voters: [ReplicaID]

    init(directory: String, voters: [ReplicaID]) {
        path = directory + "/" + Self.fileName
        self.voters = voters.sorted()
    }

    /// The persisted state, or a fresh one if the file does not exist. A file written for another voter
    /// set stops start-up, as in Kafka: the configuration changed under a node that kept its state.
    func load() throws -> QuorumState {
        guard let data = FileManager.default.contents(atPath: path) else { return QuorumState() }
        let (state, fileVoters) = try QuorumStateFile.decode([UInt8](data))
        if let fileVoters, !fileVoters.isEmpty, fileVoters.sorted() != voters {
            throw ControllerError.voterSetChanged(configured: voters, persisted: fileVoters.sorted(), file: path)
        }
        return state
    }

    func save(_ state: QuorumState) throws {
        try AtomicFile.write(Data(QuorumStateFile.encode(state, voters: voters)), to: path)
    }
}
