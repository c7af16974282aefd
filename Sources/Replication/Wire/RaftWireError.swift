import MartletProtocol

/// Why a Kafka KRaft message could not be mapped onto the Raft core (or the core's message onto the
/// wire). Inbound requests come from the network, so anything malformed at the Raft level is an error
/// the driver answers with (`errorCode`), never a crash.
public enum RaftWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes do not parse as the generated message at that version.
    case malformed(KafkaWireError)
    /// The message is not at a version this mapping speaks (or cannot say what the core means in it,
    /// such as a pre-vote below Vote v2).
    case unsupportedVersion(ApiKey, Int16)
    /// The message is not about exactly `__cluster_metadata` partition 0.
    case notMetadataPartition(String)
    /// The request names another cluster.
    case inconsistentClusterId(received: String?, expected: String?)
    /// The request was meant for another voter (its `VoterId`).
    case wrongVoter(received: ReplicaID, local: ReplicaID)
    /// A field holds a value the protocol forbids (a negative offset, a null where one is needed).
    case invalidField(String)
    /// The records of a Fetch response (or a snapshot) are not valid v2 record batches.
    case invalidRecords(RecordBatchError)
    /// A control record this log cannot hold as a core entry (KRaftVersion or Voters records of a dynamic
    /// quorum, or a snapshot marker inside the log).
    case unsupportedControlRecord(ControlRecordType)
    /// The response carries only a top-level error and no partition: the driver treats it as a lost
    /// response (the core asks again after its request timeout).
    case errorResponse(ApiKey, KafkaErrorCode)
    /// A message handed to the wrong side of the mapping: a response given as a request, or a response
    /// of another API than the request it answers. A driver bug, not bad input.
    case mismatchedMessage(String)
    /// The persisted `quorum-state` file does not hold a valid QuorumStateData.
    case invalidQuorumStateFile(String)

    /// The error code to answer the request with.
    public var errorCode: KafkaErrorCode {
        switch self {
        case .malformed, .notMetadataPartition, .invalidField, .mismatchedMessage, .invalidQuorumStateFile: .invalidRequest
        case .unsupportedVersion: .unsupportedVersion
        case .inconsistentClusterId: .inconsistentClusterId
        case .wrongVoter: .invalidVoterKey
        case .invalidRecords(let error): KafkaErrorCode(rawValue: error.kafkaErrorCode) ?? .corruptMessage
        case .unsupportedControlRecord: .invalidRecord
        case .errorResponse(_, let code): code
        }
    }

    public var description: String {
        switch self {
        case .malformed(let error): "malformed message: \(error)"
        case .unsupportedVersion(let api, let version): "\(api.name) v\(version) is not supported here"
        case .notMetadataPartition(let what): "not the metadata partition: \(what)"
        case .inconsistentClusterId(let received, let expected):
            "cluster id \(received ?? "null"), expected \(expected ?? "null")"
        case .wrongVoter(let received, let local): "request for voter \(received) reached \(local)"
        case .invalidField(let what): "invalid field: \(what)"
        case .invalidRecords(let error): "invalid records: \(error)"
        case .unsupportedControlRecord(let type): "control record \(type) has no core log entry"
        case .errorResponse(let api, let code): "\(api.name) response with top-level error \(code.name)"
        case .mismatchedMessage(let what): "mismatched message: \(what)"
        case .invalidQuorumStateFile(let what): "invalid quorum-state file: \(what)"
        }
    }
}

extension KafkaErrorCode {
    /// A code from the wire; codes this build does not know become UNKNOWN_SERVER_ERROR, which the core
    /// treats like any other failure.
    init(wire code: Int16) {
        self = KafkaErrorCode(rawValue: code) ?? .unknownServerError
    }
}
