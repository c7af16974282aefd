import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

/// The image written as snapshot records and read back through the wire format (KRaft framing, the
/// snapshot's header, batches and footer) is the image it was taken from, apart from what only log offsets
/// give.
@Suite("Metadata image snapshots")
struct MetadataSnapshotTests {
    /// Writes `image` as a snapshot ending at `endOffset` and replays it into a new image, every record
    /// through its bytes as a node that downloaded the snapshot reads it.
    static func roundTrip(_ image: MetadataImage, endOffset: Int64) throws -> MetadataImage {
        let id = OffsetAndEpoch(offset: endOffset, epoch: 3)
        let records = try image.snapshotRecords.map { record in try record.encodedBytes() }
        let bytes = RaftRecords.snapshotBytes(id: id, records: records, lastContainedLogTimestamp: 5, timestamp: 6)
        var rebuilt = MetadataImage(snapshotEndOffset: endOffset)
        for record in try RaftRecords.snapshotContents(bytes).records {
            try rebuilt.apply(snapshotRecord: MetadataRecord(framed: ByteBuffer(bytes: record)))
        }
        return rebuilt
    }

    /// Equal state; the applied offset and every broker's registration offset are the snapshot's last one.
    static func expectEqualApartFromOffsets(
        _ rebuilt: MetadataImage, _ original: MetadataImage, endOffset: Int64, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let registeredAtEnd = original.brokers.mapValues { broker in
            var broker = broker
            broker.registrationOffset = endOffset - 1
            return broker
        }
        #expect(rebuilt.brokers == registeredAtEnd, sourceLocation: sourceLocation)
        #expect(rebuilt.topicsById == original.topicsById, sourceLocation: sourceLocation)
        #expect(rebuilt.topicIdsByName == original.topicIdsByName, sourceLocation: sourceLocation)
        #expect(rebuilt.configs == original.configs, sourceLocation: sourceLocation)
        #expect(rebuilt.features == original.features, sourceLocation: sourceLocation)
        #expect(rebuilt.nextProducerId == original.nextProducerId, sourceLocation: sourceLocation)
        #expect(rebuilt.lastAppliedOffset == endOffset - 1, sourceLocation: sourceLocation)
        #expect(rebuilt.snapshotRecords == original.snapshotRecords, sourceLocation: sourceLocation)
    }

    @Test("brokers in every state, topics with partitions moved by fencing, configs, features and producer ids")
    func richImage() throws {
        var harness = ControllerHarness(brokers: 4)
        #expect(harness.createTopic("orders", partitions: 6, replicationFactor: 3, configs: ["retention.ms": "60000"]).errorCode == 0)
        #expect(harness.createTopic("payments", partitions: 3, replicationFactor: 2, configs: ["cleanup.policy": "compact"]).errorCode == 0)
        #expect(harness.createTopic("gone", partitions: 2, replicationFactor: 1).errorCode == 0)
        _ = harness.run { $0.deleteTopics(DeleteTopicsRequest(topicNames: ["gone"]), nextOffset: $1.offset) }
        let grown = harness.run {
            $0.createPartitions(CreatePartitionsRequest(topics: [.init(name: "payments", count: 5, assignments: nil)]), nextOffset: $1.offset)
        }
        #expect(grown.response.results.map(\.errorCode) == [0])
        let allocation = AllocateProducerIdsRequest(brokerId: 1, brokerEpoch: harness.epoch(of: 1))
        for _ in 0..<2 {
            _ = harness.run { $0.allocateProducerIds(allocation, nextOffset: $1.offset) }
        }
        // Broker 4 falls silent and is fenced; broker 3 asks to shut down.
        harness.now += 9001
        harness.heartbeatAll(except: [4])
        #expect(harness.tick(advancingBy: 1).isEmpty == false)
        let epoch3 = harness.epoch(of: 3)
        _ = harness.run { $0.heartbeat(ControllerHarness.heartbeat(3, epoch: epoch3, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        try harness.expectReplayMatches()

        var image = harness.state.image
        try image.apply(.featureLevel(FeatureLevelRecord(name: "group.version", featureLevel: 1)), at: harness.nextOffset)
        try image.apply(.config(ConfigRecord(resourceType: 4, resourceName: "", name: "log.retention.ms", value: "1000")), at: harness.nextOffset + 1)
        #expect(image.brokers[4]?.fenced == true && image.brokers[3]?.inControlledShutdown == true)
        #expect(image.topic(named: "orders")?.partitions.values.contains { $0.partitionEpoch > 0 } == true)
        #expect(image.topicsById.count == 2 && image.nextProducerId == 2 * Int64(ControllerState.producerIdBlockSize))

        let records = image.snapshotRecords
        #expect(records.first == .featureLevel(FeatureLevelRecord(name: ControllerBootstrap.metadataVersionFeature, featureLevel: ControllerBootstrap.metadataVersionLevel)))
        #expect(records.count == 2 + 4 + (1 + 6) + (1 + 5) + 3 + 1)
        let endOffset = image.lastAppliedOffset + 5
        Self.expectEqualApartFromOffsets(try Self.roundTrip(image, endOffset: endOffset), image, endOffset: endOffset)
    }

    @Test("an empty image writes no records and reloads at the snapshot's end")
    func emptyImage() throws {
        #expect(MetadataImage().snapshotRecords.isEmpty)
        let rebuilt = try Self.roundTrip(MetadataImage(), endOffset: 7)
        #expect(rebuilt.lastAppliedOffset == 6 && rebuilt.brokers.isEmpty && rebuilt.topicsById.isEmpty)
    }

    @Test("a fenced broker registered in a snapshot is unfenced only once it has replayed up to the snapshot's end")
    func registrationCountsAtSnapshotEnd() throws {
        var harness = ControllerHarness(brokers: 1)
        #expect(harness.tick(advancingBy: 9001).isEmpty == false)
        let image = harness.state.image
        let registered = try #require(image.brokers[1])
        #expect(registered.fenced)
        let endOffset = harness.nextOffset + 100
        let rebuilt = try Self.roundTrip(image, endOffset: endOffset)
        #expect(rebuilt.brokers[1]?.registrationOffset == endOffset - 1)

        var state = ControllerState(image: rebuilt, config: harness.state.config, now: harness.now, random: SplitMix64(seed: 1))
        let behind = state.heartbeat(
            ControllerHarness.heartbeat(1, epoch: registered.epoch, offset: endOffset - 2), nextOffset: endOffset, now: harness.now)
        #expect(behind.response.isCaughtUp == false && behind.response.isFenced && behind.records.isEmpty)
        let caughtUp = state.heartbeat(
            ControllerHarness.heartbeat(1, epoch: registered.epoch, offset: endOffset - 1), nextOffset: endOffset, now: harness.now)
        #expect(caughtUp.response.isCaughtUp && !caughtUp.response.isFenced)
    }

    @Test("whatever random commands build survives a snapshot", arguments: 1...40 as ClosedRange<UInt64>)
    func randomImages(seed: UInt64) throws {
        var harness = ControllerHarness(brokers: 4, seed: seed)
        var random = SplitMix64(seed: seed &* 0x5851_F42D)
        for step in 0..<60 {
            let topic = "t\(random.next() % 4)"
            switch random.next() % 5 {
            case 0:
                _ = harness.createTopic(topic, partitions: Int32(random.next() % 4) + 1, replicationFactor: Int16(random.next() % 3) + 1)
            case 1:
                _ = harness.run { $0.deleteTopics(DeleteTopicsRequest(topicNames: [topic]), nextOffset: $1.offset) }
            case 2:
                let request = IncrementalAlterConfigsRequest(resources: [.init(
                    resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", configOperation: 0, value: "\(step)")])])
                _ = harness.run { $0.incrementalAlterConfigs(request, nextOffset: $1.offset) }
            case 3:
                harness.now += Int64(random.next() % 6000)
                harness.heartbeatAll(except: [Int32(random.next() % 4) + 1])
                _ = harness.tick(advancingBy: 1)
            default:
                let broker = Int32(random.next() % 4) + 1
                let request = AllocateProducerIdsRequest(brokerId: broker, brokerEpoch: harness.epoch(of: broker))
                _ = harness.run { $0.allocateProducerIds(request, nextOffset: $1.offset) }
            }
        }
        let image = harness.state.image
        let endOffset = harness.nextOffset
        Self.expectEqualApartFromOffsets(try Self.roundTrip(image, endOffset: endOffset), image, endOffset: endOffset)
    }
}
