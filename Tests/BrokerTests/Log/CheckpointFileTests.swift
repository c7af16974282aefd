import MartletProtocol
import Testing

@testable import MartletBroker

@Suite("Checkpoint files")
struct CheckpointFileTests {
    @Test("offset checkpoints round trip in Kafka's text format")
    func offsetCheckpointRoundTrip() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(logDirectory: directory.path, name: OffsetCheckpointFile.recoveryPointFileName)
        #expect(try file.read().isEmpty)
        let offsets: [TopicPartition: Int64] = [
            TopicPartition("orders", 1): 42,
            TopicPartition("orders", 0): 7,
            TopicPartition("__consumer_offsets", 12): 123_456_789_012,
        ]
        try file.write(offsets)
        #expect(try file.read() == offsets)
        let text = String(decoding: TemporaryLogDirectory.bytes(file.path), as: UTF8.self)
        #expect(text == "0\n3\n__consumer_offsets 12 123456789012\norders 0 7\norders 1 42\n")
        #expect(!FileIO.exists(file.path + ".tmp"))
        try file.write([:])
        #expect(try file.read().isEmpty)
    }

    @Test("malformed checkpoints are rejected", arguments: [
        "1\n0\n", "0\n2\norders 0 1\n", "0\n1\norders x 1\n", "0\n1\norders 0\n", "", "0\n",
    ])
    func malformed(text: String) throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let path = directory.path + "/log-start-offset-checkpoint"
        try FileIO.writeAtomically(text, to: path)
        let error = #expect(throws: LogError.self) { try OffsetCheckpointFile(path: path).read() }
        #expect(error?.kafkaErrorCode == .kafkaStorageError)
    }

    @Test("tolerates Kafka's own whitespace and a missing final newline")
    func lenientParsing() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let path = directory.path + "/replication-offset-checkpoint"
        try FileIO.writeAtomically("0\n2\nfoo 0 5\r\nbar-baz 3   9", to: path)
        #expect(try OffsetCheckpointFile(path: path).read() == [
            TopicPartition("foo", 0): 5, TopicPartition("bar-baz", 3): 9,
        ])
    }

    @Test("topic ids print and parse as Kafka's URL-safe base64")
    func topicIdBase64() throws {
        for id in [
            KafkaUUID.zero, KafkaUUID(mostSignificantBits: .max, leastSignificantBits: .max),
            KafkaUUID(mostSignificantBits: 0xFBFF_0000_1234_5678, leastSignificantBits: 0x9ABC_DEF0_0FED_CBA9), KafkaUUID.random(),
        ] {
            #expect(KafkaUUID(base64URL: Substring(id.description)) == id)
        }
        #expect(KafkaUUID(base64URL: "too-short") == nil)
        #expect(KafkaUUID(base64URL: "AAAAAAAAAAAAAAAAAAAAA!") == nil)
    }
}
