/// Kafka's text checkpoint format (`CheckpointFile.java`): a version line, an entry-count line, then one
/// line per entry of whitespace-separated fields. Written atomically: a `.tmp` file, fsync, rename,
/// fsync of the directory, so a crash leaves either the old or the new file.
enum CheckpointText {
    static func write(version: Int, entries: [String], to path: String) throws(LogError) {
        var text = "\(version)\n\(entries.count)\n"
        for entry in entries { text += entry + "\n" }
        try FileIO.writeAtomically(text, to: path)
    }

    /// The fields of each entry line, or nil if the file does not exist.
    static func read(path: String, version: Int, fieldsPerEntry: Int) throws(LogError) -> [[Substring]]? {
        guard let text = try FileIO.readText(path) else { return nil }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { $0.trimmingBlanks() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard lines.count >= 2 else { throw .corruptCheckpoint(path: path, reason: "missing version or count line") }
        guard Int(lines[0]) == version else { throw .corruptCheckpoint(path: path, reason: "unrecognized version \(lines[0])") }
        guard let count = Int(lines[1]), count >= 0 else { throw .corruptCheckpoint(path: path, reason: "bad entry count \(lines[1])") }
        guard lines.count - 2 == count else {
            throw .corruptCheckpoint(path: path, reason: "expected \(count) entries but found \(lines.count - 2)")
        }
        var entries: [[Substring]] = []
        entries.reserveCapacity(count)
        for (index, line) in lines.dropFirst(2).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == fieldsPerEntry else {
                throw .corruptCheckpoint(path: path, reason: "malformed line \(index + 3): \(line)")
            }
            entries.append(fields)
        }
        return entries
    }
}

extension Substring {
    func trimmingBlanks() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
        return result
    }
}

/// A log directory's offset checkpoint (`recovery-point-offset-checkpoint`,
/// `log-start-offset-checkpoint`, `replication-offset-checkpoint`): version 0, then
/// `topic partition offset` lines, keyed by `TopicPartition` (Metadata/TopicMetadata.swift). Reads and
/// writes are whole-file; writes are atomic.
public struct OffsetCheckpointFile: Sendable {
    public static let recoveryPointFileName = "recovery-point-offset-checkpoint"
    public static let logStartOffsetFileName = "log-start-offset-checkpoint"
    public static let replicationOffsetFileName = "replication-offset-checkpoint"
    static let version = 0

    public let path: String

    public init(path: String) { self.path = path }

    /// The checkpoint `name` in `logDirectory`.
    public init(logDirectory: String, name: String) { self.path = FileIO.join(logDirectory, name) }

    /// The offsets in the file; empty if it does not exist.
    public func read() throws(LogError) -> [TopicPartition: Int64] {
        guard let entries = try CheckpointText.read(path: path, version: Self.version, fieldsPerEntry: 3) else { return [:] }
        var offsets: [TopicPartition: Int64] = [:]
        for fields in entries {
            guard let partition = Int32(fields[1]), let offset = Int64(fields[2]) else {
                throw .corruptCheckpoint(path: path, reason: "malformed entry \(fields.joined(separator: " "))")
            }
            offsets[TopicPartition(String(fields[0]), partition)] = offset
        }
        return offsets
    }

    /// Replaces the file with `offsets` (sorted by topic and partition), atomically.
    public func write(_ offsets: [TopicPartition: Int64]) throws(LogError) {
        let entries = offsets.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }.map { "\($0.key.topic) \($0.key.partition) \($0.value)" }
        try CheckpointText.write(version: Self.version, entries: entries, to: path)
    }
}
