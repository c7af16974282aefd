import Foundation
import Logging
@testable import MartletBroker
import MartletProtocol
import NIOCore
import Testing

/// The produce and fetch handlers on a broker core over a real log directory, without sockets.
@Suite struct ProduceFetchHandlerTests {
    final class Broker: Sendable {
        let directory: String
        let core: BrokerCore

        init(_ settings: [(String, String)] = []) throws {
            directory = NSTemporaryDirectory() + "martlet-handlers-\(UUID().uuidString)"
            let config = try BrokerConfig([("node.id", "1"), ("log.dirs", directory)] + settings.map { (key: $0.0, value: $0.1) })
            core = try BrokerCore(config: config, logger: Logger(label: "test"))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func context(_ version: Int16) -> RequestContext {
        RequestContext(apiVersion: version, correlationId: 1, clientId: "test", clientAddress: "in-process")
    }

    static func batch(_ values: [String], producerId: Int64 = -1, sequence: Int32 = -1) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: .lz4, producerId: producerId, producerEpoch: producerId >= 0 ? 0 : -1, baseSequence: sequence)
        for (index, value) in values.enumerated() {
            builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(string: value))
        }
        return try builder.finish()
    }

    func produce(_ broker: Broker, _ records: ByteBuffer, topic: String = "t", partition: Int32 = 0) async -> ProduceResponse.PartitionProduceResponse? {
        let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records)])])
        guard case .respond(let response) = await ProduceHandler(broker: broker.core).handle(request, context: Self.context(9)) else { return nil }
        return response.responses.first?.partitionResponses.first
    }

    func fetch(_ broker: Broker, from offset: Int64, maxWaitMs: Int32 = 0) async -> FetchResponse.PartitionData? {
        let request = FetchRequest(
            replicaId: -1, maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
            topics: [.init(topic: "t", partitions: [.init(partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, partitionMaxBytes: 1 << 20)])])
        let handler = FetchHandler(broker: broker.core, sessions: FetchSessionCache())
        guard case .respond(let response) = await handler.handle(request, context: Self.context(12)) else { return nil }
        return response.responses.first?.partitions.first
    }

    @Test func producedBatchesComeBackWholeFromTheFetchOffset() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        #expect(await produce(broker, try Self.batch(["a", "b", "c"]))?.baseOffset == 0)
        #expect(await produce(broker, try Self.batch(["d", "e"]))?.baseOffset == 3)

        // Offset 1 is inside the first batch: the whole batch comes back, then the next.
        let data = try #require(await fetch(broker, from: 1))
        #expect(data.errorCode == 0)
        #expect(data.highWatermark == 5)
        let values = RecordBatchSequence(try #require(data.records)).flatMap { bytes in
            (try? RecordBatch.decode(bytes, maximumUncompressedSize: 1 << 20))?.records.compactMap { $0.value.map { String(buffer: $0) } } ?? []
        }
        #expect(values == ["a", "b", "c", "d", "e"])
        #expect(await fetch(broker, from: 6)?.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
    }

    @Test func idempotentRetriesAreAnsweredWithTheOriginalOffset() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        let first = try Self.batch(["x"], producerId: 7, sequence: 0)
        #expect(await produce(broker, first)?.baseOffset == 0)
        #expect(await produce(broker, try Self.batch(["y"], producerId: 7, sequence: 1))?.baseOffset == 1)
        let retry = await produce(broker, first)
        #expect(retry?.errorCode == 0)
        #expect(retry?.baseOffset == 0)
        #expect(await produce(broker, try Self.batch(["z"], producerId: 7, sequence: 5))?.errorCode == KafkaErrorCode.outOfOrderSequenceNumber.rawValue)
        #expect(await fetch(broker, from: 0)?.highWatermark == 2)
    }

    @Test func badBatchesAreRefusedWithKafkasCodes() async throws {
        let broker = try Broker([("message.max.bytes", "200")])
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        var corrupt = try Self.batch(["v"])
        corrupt.setInteger(UInt8(0xFF), at: corrupt.writerIndex - 1)
        #expect(await produce(broker, corrupt)?.errorCode == KafkaErrorCode.corruptMessage.rawValue)
        let large = try Self.batch([String(repeating: "q", count: 5000).map { _ in "\(Int.random(in: 0...9))" }.joined()])
        #expect(await produce(broker, large)?.errorCode == KafkaErrorCode.messageTooLarge.rawValue)
        #expect(await produce(broker, try Self.batch(["v"]), topic: "missing")?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(await fetch(broker, from: 0)?.highWatermark == 0)
    }

    /// acks=0 gets no answer; a failed acks=0 write closes the connection, so the producer refreshes metadata.
    @Test func acksZeroIsSilentUnlessTheWriteFails() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        let handler = ProduceHandler(broker: broker.core)
        func produce(to topic: String) async throws -> HandlerOutcome<ProduceResponse> {
            let request = ProduceRequest(acks: 0, timeoutMs: 1000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: try Self.batch(["v"]))])])
            return await handler.handle(request, context: Self.context(9))
        }
        guard case .noResponse = try await produce(to: "t") else {
            Issue.record("acks=0 must not be answered")
            return
        }
        guard case .closeConnection = try await produce(to: "missing") else {
            Issue.record("a failed acks=0 write must close the connection")
            return
        }
        #expect(await fetch(broker, from: 0)?.highWatermark == 1)
    }

    @Test func longPollWakesOnAppend() async throws {
        let broker = try Broker()
        _ = await broker.core.createTopic(name: "t", partitions: 1, replicationFactor: 1, configs: [:])
        async let waiting = fetch(broker, from: 0, maxWaitMs: 5000)
        try await Task.sleep(for: .milliseconds(100))
        _ = await produce(broker, try Self.batch(["late"]))
        let data = try #require(await waiting)
        #expect(data.highWatermark == 1)
        #expect((data.records?.readableBytes ?? 0) > 0)
    }
}
