/// Kafka's file names in a partition directory.
enum LogFileNames {
    static let logSuffix = ".log"
    static let indexSuffix = ".index"
    static let timeIndexSuffix = ".timeindex"
    /// Appended to a segment's files between deciding to delete them and removing them.
    static let deletedSuffix = ".deleted"
    /// Left by Kafka's log cleaner mid-compaction; removed on load.
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"
    static let temporarySuffix = ".tmp"
    static let leaderEpochCheckpoint = "leader-epoch-checkpoint"
    static let partitionMetadata = "partition.metadata"
    /// Suffix of a partition directory being deleted (`<topic>-<partition>.<id>-delete`).
    static let deleteDirectorySuffix = "-delete"

    /// The 20-digit zero-padded base offset Kafka names segment files by.
    static func segmentPrefix(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The base offset of a `<20 digits><suffix>` name, or nil.
    static func baseOffset(of name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == 20, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(stem)
    }
}
