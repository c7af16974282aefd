import MartletProtocol
import NIOCore
import Testing

@testable import MartletReplication

@Suite("Metadata record framing")
struct MetadataFramingTests {
    static let topicId = KafkaUUID(mostSignificantBits: 0x1234, leastSignificantBits: 0x5678)

    /// One record of every type Martlet models, each with non-default fields.
    static let samples: [MetadataRecord] = [
        .registerBroker(RegisterBrokerRecord(
            brokerId: 4, incarnationId: KafkaUUID(mostSignificantBits: 9, leastSignificantBits: 9), brokerEpoch: 42,
            endPoints: [.init(name: "PLAINTEXT", host: "broker-4", port: 9092, securityProtocol: 0)],
            features: [.init(name: "metadata.version", minSupportedVersion: 1, maxSupportedVersion: 25)],
            rack: "rack-a", fenced: true, inControlledShutdown: false, logDirs: [KafkaUUID(mostSignificantBits: 5, leastSignificantBits: 6)])),
        .unregisterBroker(UnregisterBrokerRecord(brokerId: 4, brokerEpoch: 42)),
        .topic(TopicRecord(name: "orders", topicId: topicId)),
        .partition(PartitionRecord(partitionId: 2, topicId: topicId, replicas: [1, 2, 3], isr: [1, 2], leader: 1, leaderEpoch: 3, partitionEpoch: 5)),
        .config(ConfigRecord(resourceType: 2, resourceName: "orders", name: "retention.ms", value: "1000")),
        .config(ConfigRecord(resourceType: 2, resourceName: "orders", name: "retention.ms", value: nil)),
        .partitionChange(PartitionChangeRecord(partitionId: 2, topicId: topicId, isr: [2], leader: 2)),
        .partitionChange(PartitionChangeRecord(partitionId: 0, topicId: topicId, isr: [1, 3])),
        .fenceBroker(FenceBrokerRecord(id: 4, epoch: 42)),
        .unfenceBroker(UnfenceBrokerRecord(id: 4, epoch: 42)),
        .removeTopic(RemoveTopicRecord(topicId: topicId)),
        .featureLevel(FeatureLevelRecord(name: "metadata.version", featureLevel: 25)),
        .producerIds(ProducerIdsRecord(brokerId: 4, brokerEpoch: 42, nextProducerId: 3000)),
        .brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 4, brokerEpoch: 42, fenced: -1, inControlledShutdown: 1)),
        .noOp(NoOpRecord()),
        .registerController(RegisterControllerRecord(
            controllerId: 1, incarnationId: KafkaUUID(mostSignificantBits: 7, leastSignificantBits: 7),
            endPoints: [.init(name: "CONTROLLER", host: "controller-1", port: 9093, securityProtocol: 0)],
            features: [.init(name: "kraft.version", minSupportedVersion: 0, maxSupportedVersion: 1)])),
    ]

    @Test("every record type round-trips through the frame", arguments: samples)
    func roundTrip(record: MetadataRecord) throws {
        let decoded = try MetadataRecord(framed: record.encoded())
        #expect(decoded == record)
    }

    @Test("every modelled record type has a sample")
    func coverage() {
        #expect(Set(Self.samples.map(\.recordType)) == [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 17, 20, 27])
    }

    @Test("the frame is frame version 1, the record type and the latest version, as unsigned varints")
    func header() throws {
        let topic = try MetadataRecord.topic(TopicRecord(name: "t", topicId: Self.topicId)).encoded()
        #expect(Array(topic.readableBytesView.prefix(3)) == [1, 2, 0])
        let change = try MetadataRecord.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 1)).encoded()
        #expect(Array(change.readableBytesView.prefix(3)) == [1, 17, 2])
    }

    @Test("an unknown record type is an error, not a crash")
    func unknownType() {
        for type: UInt8 in [6, 14, 99] {
            #expect(throws: MetadataRecordDecodingError.unknownRecordType(UInt32(type))) {
                try MetadataRecord(framed: ByteBuffer(bytes: [1, type, 0, 0]))
            }
        }
    }

    @Test("frame versions other than 1, unknown versions, truncation and trailing bytes are refused")
    func malformed() throws {
        #expect(throws: MetadataRecordDecodingError.unsupportedFrameVersion(0)) {
            try MetadataRecord(framed: ByteBuffer(bytes: [0, 20, 0, 0]))
        }
        #expect(throws: MetadataRecordDecodingError.unsupportedVersion(recordType: 2, version: 1)) {
            try MetadataRecord(framed: ByteBuffer(bytes: [1, 2, 1, 0]))
        }
        var encoded = try MetadataRecord.topic(TopicRecord(name: "orders", topicId: Self.topicId)).encoded()
        let truncated = encoded.getSlice(at: 0, length: encoded.readableBytes - 3)!
        #expect(throws: MetadataRecordDecodingError.self) { try MetadataRecord(framed: truncated) }
        encoded.writeInteger(UInt8(0))
        #expect(throws: MetadataRecordDecodingError.trailingBytes(recordType: 2, count: 1)) {
            try MetadataRecord(framed: encoded)
        }
        #expect(throws: MetadataRecordDecodingError.self) { try MetadataRecord(framed: ByteBuffer(bytes: [1])) }
    }
}
