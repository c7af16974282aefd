import Foundation
import MartletProtocol
import Testing

@testable import MartletReplication

/// The `quorum-state` file in Kafka's JSON form.
@Suite("quorum-state file")
struct QuorumStateFileTests {
    @Test("the file is written as Kafka writes version 0, and read back", arguments: [
        QuorumState(epoch: 0),
        QuorumState(epoch: 5, votedFor: 2, leaderId: nil),
        QuorumState(epoch: 6, votedFor: nil, leaderId: 3),
        QuorumState(epoch: 7, votedFor: 1, leaderId: 1),
    ])
    func roundTrip(state: QuorumState) throws {
        let bytes = QuorumStateFile.encode(state, voters: [3, 1, 2])
        let decoded = try QuorumStateFile.decode(bytes)
        #expect(decoded.state == state)
        #expect(decoded.voters == [1, 2, 3])
        #expect(try QuorumStateFile.state(QuorumStateFile.data(state, voters: [1])) == state)
    }

    @Test("the exact JSON Kafka's FileQuorumStateStore writes for a static quorum")
    func kafkaForm() throws {
        let json = String(decoding: QuorumStateFile.encode(QuorumState(epoch: 5, votedFor: nil, leaderId: 1), voters: [1, 2, 3]), as: UTF8.self)
        #expect(json == #"{"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}"#)
    }

    @Test("a version-1 file (a dynamic quorum's) is read too")
    func versionOne() throws {
        let json = #"{"leaderId":-1,"leaderEpoch":9,"votedId":2,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}"#
        let decoded = try QuorumStateFile.decode(Array(json.utf8))
        #expect(decoded.state == QuorumState(epoch: 9, votedFor: 2, leaderId: nil))
        #expect(decoded.voters == nil)
    }

    @Test("files that are not a valid QuorumStateData are refused", arguments: [
        #"{"leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":null}"#,
        #"{"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"currentVoters":null,"data_version":0}"#,
        #"{"clusterId":"","leaderId":1,"leaderEpoch":-1,"votedId":-1,"appliedOffset":0,"currentVoters":null,"data_version":0}"#,
        #"{"leaderId":1,"leaderEpoch":5,"votedId":-1,"data_version":2}"#,
        #"{"leaderId":1,"leaderEpoch":5"#,
    ])
    func invalid(json: String) throws {
        let error = #expect(throws: RaftWireError.self) { try QuorumStateFile.decode(Array(json.utf8)) }
        guard case .invalidQuorumStateFile = error else {
            Issue.record("expected an invalid quorum-state file, got \(String(describing: error))")
            return
        }
    }
}
