import Foundation
import MartletProtocol

/// The `quorum-state` file Kafka keeps in the metadata log directory (`FileQuorumStateStore`): the
/// generated `QuorumStateData` as JSON, plus a `data_version` field naming the version it was written
/// at. Version 0 is what a static quorum (kraft.version 0, `controller.quorum.voters`) writes:
///
///     {"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,
///      "currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}
///
/// Kafka's JSON reader requires every field of the version, so all are written (the cluster id empty
/// and the applied offset 0, as Kafka writes them). Reading accepts versions 0 and 1 (a dynamic quorum's,
/// with `votedDirectoryId` and without the v0-only fields). -1 is "none" for the leader and the vote.
public enum QuorumStateFile {
    /// The version written.
    public static let dataVersion: Int16 = 0

    /// The core's quorum state as the generated message; `voters` are the static voter set.
    public static func data(_ state: QuorumState, voters: [ReplicaID]) -> QuorumStateData {
        QuorumStateData(
            clusterId: "", leaderId: state.leaderId ?? -1, leaderEpoch: state.epoch, votedId: state.votedFor ?? -1,
            appliedOffset: 0, currentVoters: voters.sorted().map { .init(voterId: $0) })
    }

    /// The core's quorum state from the message. A negative epoch is refused: Kafka writes -1 only as
    /// the spec default, never as a state to resume from.
    public static func state(_ data: QuorumStateData) throws(RaftWireError) -> QuorumState {
        guard data.leaderEpoch >= 0 else { throw .invalidQuorumStateFile("leader epoch \(data.leaderEpoch)") }
        return QuorumState(
            epoch: data.leaderEpoch, votedFor: data.votedId < 0 ? nil : data.votedId,
            leaderId: data.leaderId < 0 ? nil : data.leaderId)
    }

    /// The file's contents for `state`.
    public static func encode(_ state: QuorumState, voters: [ReplicaID]) -> [UInt8] {
        let data = data(state, voters: voters)
        let currentVoters = (data.currentVoters ?? []).map { "{\"voterId\":\($0.voterId)}" }.joined(separator: ",")
        let json = "{\"clusterId\":\"\",\"leaderId\":\(data.leaderId),\"leaderEpoch\":\(data.leaderEpoch),"
            + "\"votedId\":\(data.votedId),\"appliedOffset\":\(data.appliedOffset),\"currentVoters\":[\(currentVoters)],"
            + "\"data_version\":\(dataVersion)}"
        return Array(json.utf8)
    }

    /// The file read back: the quorum state and, for version 0, the voter set it was written with
    /// (a node compares it with its configuration, as Kafka does).
    public static func decode(_ bytes: [UInt8]) throws(RaftWireError) -> (state: QuorumState, voters: [ReplicaID]?) {
        let file: FileJSON
        do {
            file = try JSONDecoder().decode(FileJSON.self, from: Data(bytes))
        } catch {
            throw .invalidQuorumStateFile("\(error)")
        }
        switch file.dataVersion {
        case 0:
            guard file.clusterId != nil, file.appliedOffset != nil else {
                throw .invalidQuorumStateFile("version 0 without clusterId or appliedOffset")
            }
        case 1:
            break
        default:
            throw .invalidQuorumStateFile("data_version \(file.dataVersion)")
        }
        let data = QuorumStateData(
            clusterId: file.clusterId ?? "", leaderId: file.leaderId, leaderEpoch: file.leaderEpoch, votedId: file.votedId,
            appliedOffset: file.appliedOffset ?? 0,
            currentVoters: file.currentVoters?.map { .init(voterId: $0.voterId) })
        return (try state(data), data.currentVoters?.map(\.voterId))
    }

    /// The JSON fields, as Kafka's `QuorumStateDataJsonConverter` names them.
    private struct FileJSON: Decodable {
        struct Voter: Decodable { var voterId: Int32 }
        var clusterId: String?
        var leaderId: Int32
        var leaderEpoch: Int32
        var votedId: Int32
        var appliedOffset: Int64?
        var currentVoters: [Voter]?
        var dataVersion: Int16

        enum CodingKeys: String, CodingKey {
            case clusterId, leaderId, leaderEpoch, votedId, appliedOffset, currentVoters
            case dataVersion = "data_version"
        }
    }
}
