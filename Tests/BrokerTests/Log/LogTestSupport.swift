import Foundation
import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

/// A temporary log directory under /tmp, removed by `remove()` (call it in a `defer`).
struct TemporaryLogDirectory {
    let path: String

    init() {
        path = "/tmp/martlet-log-tests-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// `<path>/<topic>-<partition>/<name>`.
    func file(_ name: String, topic: String = LogTest.topic, partition: Int32 = 0) -> String {
        "\(path)/\(topic)-\(partition)/\(name)"
    }

    func partitionDirectory(topic: String = LogTest.topic, partition: Int32 = 0) -> String { "\(path)/\(topic)-\(partition)" }

    func names(topic: String = LogTest.topic, partition: Int32 = 0) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: partitionDirectory(topic: topic, partition: partition))) ?? []).sorted()
    }

    func bytes(_ name: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file(name)) else { return [] }
        return [UInt8](data)
    }

    func write(_ bytes: [UInt8], to name: String) {
        try! Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }

    func size(_ name: String) -> Int { bytes(name).count }
}

/// A fixed clock: tests pass `now` explicitly to the log's operations.
struct TestClock: LogClock {
    var now: Int64 = 1_700_000_000_000
    func milliseconds() -> Int64 { now }
    func monotonicNanoseconds() -> UInt64 { 0 }
}

enum LogTest {
    static let topic = "orders"
    static let t0: Int64 = 1_700_000_000_000

    /// A small config: 1 KiB segments, an index entry every 100 bytes.
    static func config(segmentBytes: Int = 1024, indexIntervalBytes: Int = 100) -> LogConfig {
        LogConfig(segmentBytes: segmentBytes, segmentMs: .max / 2, retentionMs: -1, indexIntervalBytes: indexIntervalBytes, maxIndexSize: 4096)
    }

    static func open(
        _ directory: TemporaryLogDirectory, config: LogConfig = LogTest.config(), recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0,
        clean: Bool = false, topicId: KafkaUUID? = nil
    ) throws -> PartitionLog {
        try PartitionLog.open(
            directory: directory.partitionDirectory(), topic: topic, partition: 0, config: config, recoveryPoint: recoveryPoint,
            logStartOffset: logStartOffset, hadCleanShutdown: clean, topicId: topicId, clock: TestClock())
    }

    /// A producer batch of `records` records with timestamps `timestamp`, `timestamp + 1`, … and values
    /// "v<index>" padded to `valueSize` bytes.
    static func batch(
        records: Int = 3, timestamp: Int64 = t0, valueSize: Int = 20, compression: CompressionCodec = .none, tag: Int = 0,
        timestamps: [Int64]? = nil
    ) -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: compression)
        for index in 0..<records {
            var value = ByteBuffer(string: "v\(tag)-\(index)")
            if value.readableBytes < valueSize { value.writeRepeatingByte(UInt8(ascii: "."), count: valueSize - value.readableBytes) }
            builder.append(timestamp: timestamps?[index] ?? timestamp + Int64(index), key: ByteBuffer(string: "k\(index)"), value: value)
        }
        return try! builder.finish()
    }

    /// Appends `count` batches of `records` records as leader in `epoch`; returns the results.
    @discardableResult
    static func fill(_ log: PartitionLog, batches count: Int, records: Int = 3, epoch: Int32 = 0, timestamp: Int64 = t0, valueSize: Int = 20) throws -> [AppendResult] {
        try (0..<count).map { index in
            try log.appendAsLeader(
                batch(records: records, timestamp: timestamp + Int64(index) * 10, valueSize: valueSize, tag: index), leaderEpoch: epoch,
                now: timestamp)
        }
    }

    /// The headers of the batches in `bytes` (each checked with `.stored` validation).
    static func headers(_ bytes: ByteBuffer) throws -> [RecordBatchHeader] {
        var iterator = RecordBatchSequence(bytes).makeIterator()
        var headers: [RecordBatchHeader] = []
        while let batch = try iterator.nextBatch() { headers.append(try RecordBatch.validate(batch, mode: .stored)) }
        #expect(iterator.remaining.readableBytes == 0, "a read returned a partial batch")
        return headers
    }

    /// Offsets of every record in `bytes`.
    static func recordOffsets(_ bytes: ByteBuffer) throws -> [Int64] {
        var offsets: [Int64] = []
        for batch in RecordBatchSequence(bytes) {
            let decoded = try RecordBatch.decode(batch, maximumUncompressedSize: 1 << 20)
            offsets += decoded.records.map { decoded.offset(of: $0) }
        }
        return offsets
    }

    /// Every byte of the log, read from `from` to the end.
    static func readAll(_ log: PartitionLog, from offset: Int64? = nil) throws -> ByteBuffer {
        try log.read(from: offset ?? log.logStartOffset, maxBytes: .max).readBytes()
    }
}
