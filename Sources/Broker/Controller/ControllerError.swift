import MartletReplication

/// What stops a controller from starting or running, said in one line.
public enum ControllerError: Error, CustomStringConvertible {
    case voterSetChanged(configured: [ReplicaID], persisted: [ReplicaID], file: String)
    /// The metadata log on disk does not hold valid KRaft batches.
    case corruptLog(String)
    /// A write the quorum depends on (quorum state, log, snapshot) failed; Kafka halts the process then.
    case storageFailed(String)

    public var description: String {
        switch self {
        case .voterSetChanged(let configured, let persisted, let file):
            "controller.quorum.voters \(configured) differs from the voters \(persisted) in \(file); fix the configuration or remove the file"
        case .corruptLog(let why): "corrupt __cluster_metadata log: \(why)"
        case .storageFailed(let why): "metadata storage failed: \(why)"
        }
    }
}
