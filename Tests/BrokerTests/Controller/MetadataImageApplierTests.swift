import Logging
import MartletProtocol
import MartletReplication
import Testing

@testable import MartletBroker

/// The committed image a controller keeps: records replayed in log order, what does not decode or fit
/// skipped without stopping replay, and snapshots replacing the image.
@Suite("Metadata image applier")
struct MetadataImageApplierTests {
    static let topicId = KafkaUUID(mostSignificantBits: 7, leastSignificantBits: 9)

    /// Quiet: the skipped records are logged as errors on purpose.
    static var logger: Logger {
        var logger = Logger(label: "applier-test")
        logger.logLevel = .critical
        return logger
    }

    static func bytes(_ record: MetadataRecord) throws -> [UInt8] { try record.encodedBytes() }

    static var topic: MetadataRecord { .topic(TopicRecord(name: "orders", topicId: topicId)) }

    static func partition(_ id: Int32, topicId: KafkaUUID = topicId) -> MetadataRecord {
        .partition(PartitionRecord(partitionId: id, topicId: topicId, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0))
    }

    @Test("replays in order and skips entries that do not decode or do not fit")
    func skipsBadRecords() throws {
        let applier = MetadataImageApplier(logger: Self.logger)
        let unknownTopic = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 1)
        applier.apply([
            LogEntry(offset: 0, epoch: 1, payload: .noOp),
            LogEntry(offset: 1, epoch: 1, payload: .data(try Self.bytes(Self.topic))),
            LogEntry(offset: 2, epoch: 1, payload: .data([0x07, 0xFF, 0x00])),
            LogEntry(offset: 3, epoch: 1, payload: .data(try Self.bytes(Self.partition(0, topicId: unknownTopic)))),
            LogEntry(offset: 4, epoch: 1, payload: .data(try Self.bytes(Self.topic))),
            LogEntry(offset: 5, epoch: 1, payload: .data(try Self.bytes(Self.partition(0)))),
        ])
        let image = applier.image
        #expect(image.topic(named: "orders")?.partitions.keys.sorted() == [0])
        #expect(image.topicsById.count == 1)
        #expect(image.lastAppliedOffset == 5)
    }

    @Test("a snapshot replaces the image, and entries continue after its end")
    func loadsSnapshot() throws {
        let applier = MetadataImageApplier(logger: Self.logger)
        applier.apply([LogEntry(offset: 0, epoch: 1, payload: .data(try Self.bytes(
            .topic(TopicRecord(name: "gone", topicId: KafkaUUID(mostSignificantBits: 3, leastSignificantBits: 3))))))])
        let id = OffsetAndEpoch(offset: 40, epoch: 2)
        let snapshot = RaftRecords.snapshotBytes(
            id: id, records: [try Self.bytes(Self.topic), try Self.bytes(Self.partition(0))], lastContainedLogTimestamp: 0, timestamp: 0)
        applier.load(RaftSnapshot(id: id, bytes: snapshot))
        #expect(applier.image.topic(named: "gone") == nil)
        #expect(applier.image.lastAppliedOffset == 39)
        applier.apply([LogEntry(offset: 40, epoch: 2, payload: .data(try Self.bytes(Self.partition(1))))])
        #expect(applier.image.topic(named: "orders")?.partitions.keys.sorted() == [0, 1])
    }

    @Test("what the applier snapshots, another applier loads into the same image")
    func snapshotsItsImage() throws {
        let applier = MetadataImageApplier(logger: Self.logger)
        let broker = MetadataRecord.registerBroker(RegisterBrokerRecord(
            brokerId: 4, incarnationId: Self.topicId, brokerEpoch: 0, rack: "r1", fenced: false, inControlledShutdown: true))
        let config = MetadataRecord.config(ConfigRecord(resourceType: 2, resourceName: "orders", name: "retention.ms", value: "9"))
        applier.apply(try [broker, Self.topic, Self.partition(0), config].enumerated().map { index, record in
            LogEntry(offset: Int64(index), epoch: 1, payload: .data(try Self.bytes(record)))
        })
        let id = OffsetAndEpoch(offset: 6, epoch: 1)
        let bytes = RaftRecords.snapshotBytes(id: id, records: try applier.captureSnapshot()(), lastContainedLogTimestamp: 0, timestamp: 0)
        let loaded = MetadataImageApplier(logger: Self.logger)
        loaded.load(RaftSnapshot(id: id, bytes: bytes))
        #expect(loaded.image.snapshotRecords == applier.image.snapshotRecords)
        #expect(loaded.image.brokers[4]?.inControlledShutdown == true && loaded.image.brokers[4]?.registrationOffset == 5)
        #expect(loaded.image.lastAppliedOffset == 5)
    }
}
