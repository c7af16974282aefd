import Foundation
import Logging
@testable import MartletBroker
import MartletProtocol
import NIOCore
import Testing

/// Compacted topics through the broker: keyless records refused at produce, the cleaner pass a partition
/// runs from the maintenance loop, and its checkpoint kept across a restart.
@Suite struct CompactedTopicTests {
    typealias Broker = ProduceFetchHandlerTests.Broker

    static let compacted = ["cleanup.policy": "compact", "segment.bytes": "600", "min.cleanable.dirty.ratio": "0.01"]

    static func batch(_ updates: [(key: String?, value: String)]) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for update in updates {
            builder.append(timestamp: 1_700_000_000_000, key: update.key.map { ByteBuffer(string: $0) }, value: ByteBuffer(string: update.value))
        }
        return try builder.finish()
    }

    func produce(_ broker: Broker, _ records: ByteBuffer) async -> ProduceResponse.PartitionProduceResponse? {
        await ProduceFetchHandlerTests().produce(broker, records)
    }

    /// Every (key, value) of partition 0, in offset order.
    func readAll(_ broker: Broker) async throws -> [(offset: Int64, key: String, value: String)] {
        let partition = try #require(broker.core.replicas.partition(TopicPartition("t", 0)))
        var offset: Int64 = 0
        var found: [(Int64, String, String)] = []
        while true {
            let read = try await partition.read(from: offset, maxBytes: 1 << 20, minOneBatch: true, currentLeaderEpoch: -1, readCommitted: false)
            if read.records.isEmpty { break }
            var bytes = try read.records.readBytes()
            while bytes.readableBytes > 0 {
                let batch = try RecordBatch.decode(from: &bytes, maximumUncompressedSize: 1 << 20)
                for record in batch.records where batch.offset(of: record) >= offset {
                    found.append((batch.offset(of: record), record.key.map { String(buffer: $0) } ?? "", record.value.map { String(buffer: $0) } ?? ""))
                }
            }
            offset = read.records.nextOffset
        }
        return found
    }

    @Test func keylessRecordsAreRefusedOnCompactedTopicsOnly() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: ["cleanup.policy": "compact,delete"])
        let refused = await produce(broker, try Self.batch([("k", "v"), (nil, "no key")]))
        #expect(refused?.errorCode == KafkaErrorCode.invalidRecord.rawValue)
        #expect(refused?.errorMessage == "Compacted topic cannot accept message without key in topic partition t-0.")
        #expect(await produce(broker, try Self.batch([("k", "v")]))?.errorCode == 0)

        _ = await broker.core.createTopic(name: "plain", partitions: 1, replicationFactor: 1, configs: [:])
        let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "plain", partitionData: [.init(index: 0, records: try Self.batch([(nil, "fine")]))])])
        guard case .respond(let response) = await ProduceHandler(broker: broker.core).handle(request, context: ProduceFetchHandlerTests.context(9)) else {
            Issue.record("no response")
            return
        }
        #expect(response.responses[0].partitionResponses[0].errorCode == 0)
    }

    @Test func theCleanerKeepsTheLatestValueOfEveryKeyAtItsOffsetAndRemembersWhereItStopped() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: Self.compacted)
        var latest: [String: (offset: Int64, value: String)] = [:]
        var next: Int64 = 0
        for round in 0..<30 {
            let updates = (0..<5).map { (key: "key-\($0)", value: "round-\(round)") }
            #expect(await produce(broker, try Self.batch(updates))?.errorCode == 0)
            for update in updates {
                latest[update.key] = (next, update.value)
                next += 1
            }
        }
        let partition = try #require(broker.core.replicas.partition(TopicPartition("t", 0)))
        let result = try #require(await partition.cleanIfDue(now: SystemLogClock().milliseconds(), maxOffsetMapBytes: 1 << 20, maxDirtyBytes: .max))
        #expect(result.recordsRetained < result.recordsRead)
        #expect(await partition.cleanerCheckpoint == result.cleanedUpTo)

        let records = try await readAll(broker)
        // Every key's latest value is there at its original offset; older values are gone below the
        // cleaned point (the active segment is never cleaned).
        for (key, want) in latest {
            #expect(records.contains { $0.key == key && $0.offset == want.offset && $0.value == want.value })
        }
        #expect(records.filter { $0.offset < result.cleanedUpTo }.count <= latest.count)
        #expect(await partition.offsets.logEndOffset == next)

        await broker.core.replicas.writeCheckpoints()
        let checkpoint = try OffsetCheckpointFile(logDirectory: broker.directory, name: OffsetCheckpointFile.cleanerOffsetFileName).read()
        #expect(checkpoint[TopicPartition("t", 0)] == result.cleanedUpTo)

        await broker.core.replicas.shutdown()
        let reopened = try BrokerCore(config: broker.core.config, logger: Logger(label: "test"))
        try await reopened.openPartitions()
        let again = try #require(reopened.replicas.partition(TopicPartition("t", 0)))
        #expect(await again.cleanerCheckpoint == result.cleanedUpTo)
        await reopened.replicas.shutdown()
    }
}
