import MartletProtocol

/// Kafka's `partition.metadata` in a partition directory:
///
///     version: 0
///     topic_id: <topic id, URL-safe base64 without padding>
///
/// It ties the directory to a topic id, so a recreated topic of the same name is not mistaken for
/// the old one.
public struct PartitionMetadataFile: Sendable {
    public let path: String

    public init(partitionDirectory: String) {
        path = FileIO.join(partitionDirectory, LogFileNames.partitionMetadata)
    }

    /// The topic id in the file, or nil if there is no file.
    public func read() throws(LogError) -> KafkaUUID? {
        guard let text = try FileIO.readText(path) else { return nil }
        var version: Substring?
        var topicId: Substring?
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingBlanks()
            let value = line[line.index(after: colon)...].trimmingBlanks()
            if key == "version" { version = value } else if key == "topic_id" { topicId = value }
        }
        guard version == "0" else { throw .corruptCheckpoint(path: path, reason: "unrecognized version \(version ?? "none")") }
        guard let topicId, let uuid = KafkaUUID(base64URL: topicId) else {
            throw .corruptCheckpoint(path: path, reason: "missing or malformed topic_id")
        }
        return uuid
    }

    /// Writes the file atomically.
    public func write(topicId: KafkaUUID) throws(LogError) {
        try FileIO.writeAtomically("version: 0\ntopic_id: \(topicId)\n", to: path)
    }
}

extension KafkaUUID {
    /// Parses Kafka's printed form: 22 characters of URL-safe base64 without padding.
    init?(base64URL text: Substring) {
        let characters = Array(text.utf8)
        guard characters.count == 22 else { return nil }
        var bits: [UInt8] = []
        bits.reserveCapacity(22)
        for character in characters {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            bits.append(value)
        }
        // 22 six-bit groups = 132 bits: the 128 of the UUID then 4 zero bits.
        var high: UInt64 = 0
        var low: UInt64 = 0
        var bitIndex = 0
        for group in bits {
            for shift in stride(from: 5, through: 0, by: -1) {
                let bit = UInt64((group >> UInt8(shift)) & 1)
                if bitIndex < 64 {
                    high |= bit << UInt64(63 - bitIndex)
                } else if bitIndex < 128 {
                    low |= bit << UInt64(127 - bitIndex)
                } else if bit != 0 {
                    return nil
                }
                bitIndex += 1
            }
        }
        self.init(mostSignificantBits: high, leastSignificantBits: low)
    }
}
