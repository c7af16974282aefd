/// A log directory's checkpoint files: where each partition's recovery must start after a crash, each
/// partition's log start offset (moved by DeleteRecords and retention), and where the cleaner continues
/// on each compacted partition.
struct CheckpointSet {
    var recoveryPoints: [TopicPartition: Int64]
    var logStartOffsets: [TopicPartition: Int64]
    var cleanerOffsets: [TopicPartition: Int64]

    /// Reads all three; a missing or unreadable file counts as empty (recover everything, start at 0,
    /// clean from the log start).
    init(directory: String) {
        func read(_ name: String) -> [TopicPartition: Int64] {
            (try? OffsetCheckpointFile(logDirectory: directory, name: name).read()) ?? [:]
        }
        recoveryPoints = read(OffsetCheckpointFile.recoveryPointFileName)
        logStartOffsets = read(OffsetCheckpointFile.logStartOffsetFileName)
        cleanerOffsets = read(OffsetCheckpointFile.cleanerOffsetFileName)
    }

    init(recoveryPoints: [TopicPartition: Int64] = [:], logStartOffsets: [TopicPartition: Int64] = [:], cleanerOffsets: [TopicPartition: Int64] = [:]) {
        self.recoveryPoints = recoveryPoints
        self.logStartOffsets = logStartOffsets
        self.cleanerOffsets = cleanerOffsets
    }

    func write(directory: String) throws(LogError) {
        try OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.recoveryPointFileName).write(recoveryPoints)
        try OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.logStartOffsetFileName).write(logStartOffsets)
        try OffsetCheckpointFile(logDirectory: directory, name: OffsetCheckpointFile.cleanerOffsetFileName).write(cleanerOffsets)
    }
}
