/// A log directory's two checkpoint files: where each partition's recovery must start after a crash,
/// and each partition's log start offset (moved by DeleteRecords and retention).
struct CheckpointSet {
    var recoveryPoints: [TopicPartition: Int64]
    var logStartOffsets: [TopicPartition: Int64]

    /// Reads both; a missing or unreadable file counts as empty (recover everything, start at 0).
    init(directory: String) {
        recoveryPoints = (try? OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.recoveryPointFileName).read()) ?? [:]
        logStartOffsets = (try? OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.logStartOffsetFileName).read()) ?? [:]
    }

    static func write(directory: String, recoveryPoints: [TopicPartition: Int64], logStartOffsets: [TopicPartition: Int64]) throws(LogError) {
        try OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.recoveryPointFileName).write(recoveryPoints)
        try OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.logStartOffsetFileName).write(logStartOffsets)
    }
}
