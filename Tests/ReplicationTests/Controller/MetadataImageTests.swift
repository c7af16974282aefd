import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Metadata image replay")
struct MetadataImageTests {
    static let topicId = KafkaUUID(mostSignificantBits: 0xAB, leastSignificantBits: 0xCD)

    /// An image with broker 1 and topic "t" (one partition on [1, 2], led by 1), at offsets 0...2.
    static func seeded() throws -> MetadataImage {
        var image = MetadataImage()
        try image.apply(.registerBroker(RegisterBrokerRecord(brokerId: 1, incarnationId: topicId, brokerEpoch: 0, fenced: true)), at: 0)
        try image.apply(.topic(TopicRecord(name: "t", topicId: topicId)), at: 1)
        try image.apply(.partition(PartitionRecord(partitionId: 0, topicId: topicId, replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0)), at: 2)
        return image
    }

    @Test("records build brokers, topics and partitions, and the applied offset follows")
    func build() throws {
        let image = try Self.seeded()
        #expect(image.lastAppliedOffset == 2)
        #expect(image.brokers[1]?.fenced == true)
        #expect(image.brokers[1]?.registrationOffset == 0)
        #expect(image.topic(named: "t")?.id == Self.topicId)
        #expect(image.partition(Self.topicId, 0) == PartitionRegistration(replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0))
    }

    @Test("a partition change bumps the partition epoch, and the leader epoch only with a new leader")
    func partitionChange() throws {
        var image = try Self.seeded()
        try image.apply(.partitionChange(PartitionChangeRecord(partitionId: 0, topicId: Self.topicId, isr: [1])), at: 3)
        #expect(image.partition(Self.topicId, 0) == PartitionRegistration(replicas: [1, 2], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 1))
        try image.apply(.partitionChange(PartitionChangeRecord(partitionId: 0, topicId: Self.topicId, leader: -1)), at: 4)
        #expect(image.partition(Self.topicId, 0) == PartitionRegistration(replicas: [1, 2], isr: [1], leader: -1, leaderEpoch: 1, partitionEpoch: 2))
    }

    @Test("records that do not fit are errors and leave the image as it was, offset aside")
    func misfits() throws {
        let seeded = try Self.seeded()
        let other = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 1)
        let misfits: [(MetadataRecord, MetadataImageError)] = [
            (.partition(PartitionRecord(partitionId: 0, topicId: other, replicas: [1], isr: [1], leader: 1)), .unknownTopicId(other)),
            (.partitionChange(PartitionChangeRecord(partitionId: 7, topicId: Self.topicId, isr: [1])), .unknownPartition(topicId: Self.topicId, partition: 7)),
            (.partitionChange(PartitionChangeRecord(partitionId: 0, topicId: Self.topicId, leader: 3)),
             .invalidPartition(topicId: Self.topicId, partition: 0, reason: "leader 3 not in ISR [1, 2]")),
            (.topic(TopicRecord(name: "t", topicId: other)), .duplicateTopicName("t")),
            (.removeTopic(RemoveTopicRecord(topicId: other)), .unknownTopicId(other)),
            (.fenceBroker(FenceBrokerRecord(id: 9, epoch: 0)), .unknownBroker(9)),
            (.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 1, brokerEpoch: 5, fenced: -1)),
             .staleBrokerEpoch(brokerId: 1, expected: 0, got: 5)),
            (.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 1, brokerEpoch: 0, fenced: 3)), .invalidFencingChange(brokerId: 1, value: 3)),
            (.config(ConfigRecord(resourceType: 9, resourceName: "t", name: "x", value: "y")), .unknownConfigResourceType(9)),
            (.producerIds(ProducerIdsRecord(brokerId: 1, brokerEpoch: 0, nextProducerId: 0)), .producerIdNotIncreasing(current: 0, proposed: 0)),
        ]
        for (record, expected) in misfits {
            var image = seeded
            #expect(throws: expected) { try image.apply(record, at: 10) }
            #expect(image.lastAppliedOffset == 10)
            #expect(image.brokers == seeded.brokers && image.topicsById == seeded.topicsById && image.configs == seeded.configs)
        }
        var image = seeded
        #expect(throws: MetadataImageError.offsetNotIncreasing(offset: 2, lastApplied: 2)) { try image.apply(.noOp(NoOpRecord()), at: 2) }
    }

    @Test("a null config value deletes the key, and removing a topic drops its partitions and configs")
    func configsAndRemoval() throws {
        var image = try Self.seeded()
        try image.apply(.config(ConfigRecord(resourceType: 2, resourceName: "t", name: "retention.ms", value: "5")), at: 3)
        try image.apply(.config(ConfigRecord(resourceType: 2, resourceName: "t", name: "cleanup.policy", value: "compact")), at: 4)
        try image.apply(.config(ConfigRecord(resourceType: 2, resourceName: "t", name: "retention.ms", value: nil)), at: 5)
        #expect(image.configs[ConfigResource(.topic, "t")] == ["cleanup.policy": "compact"])
        try image.apply(.removeTopic(RemoveTopicRecord(topicId: Self.topicId)), at: 6)
        #expect(image.topicsById.isEmpty && image.topicIdsByName.isEmpty && image.configs.isEmpty)
    }

    @Test("feature levels, producer id blocks, fencing and unregistration")
    func brokersAndFeatures() throws {
        var image = try Self.seeded()
        try image.apply(.featureLevel(FeatureLevelRecord(name: "metadata.version", featureLevel: 25)), at: 3)
        try image.apply(.featureLevel(FeatureLevelRecord(name: "group.version", featureLevel: 1)), at: 4)
        try image.apply(.featureLevel(FeatureLevelRecord(name: "group.version", featureLevel: 0)), at: 5)
        #expect(image.features == ["metadata.version": 25])
        try image.apply(.producerIds(ProducerIdsRecord(brokerId: 1, brokerEpoch: 0, nextProducerId: 1000)), at: 6)
        #expect(image.nextProducerId == 1000)
        try image.apply(.unfenceBroker(UnfenceBrokerRecord(id: 1, epoch: 0)), at: 7)
        #expect(image.brokers[1]?.isActive == true)
        try image.apply(.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 1, brokerEpoch: 0, inControlledShutdown: 1)), at: 8)
        #expect(image.brokers[1]?.isActive == false && image.brokers[1]?.fenced == false)
        try image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 0)), at: 9)
        #expect(image.brokers[1]?.fenced == true)
        try image.apply(.unregisterBroker(UnregisterBrokerRecord(brokerId: 1, brokerEpoch: 0)), at: 10)
        #expect(image.brokers.isEmpty)
    }
}
