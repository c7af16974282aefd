import MartletProtocol

/// Writing the image as a snapshot: the records that rebuild it (Kafka's `MetadataImage.write`).
extension MetadataImage {
    /// The records a snapshot of this image holds. Applied in order with `apply(snapshotRecord:)` to
    /// `MetadataImage(snapshotEndOffset:)` they rebuild an equal image, apart from what only log offsets
    /// give: `lastAppliedOffset` and each broker's `registrationOffset` become the snapshot's last
    /// contained offset.
    ///
    /// Kafka's order: features first, `metadata.version` ahead of the rest, since a reader needs it to
    /// interpret everything after; then brokers, each topic followed by its partitions, configs (after the
    /// topics they configure) and the producer-id high mark. Within each part the order is sorted, so equal
    /// images give equal records.
    public var snapshotRecords: [MetadataRecord] {
        var records: [MetadataRecord] = []
        let metadataVersion = ControllerBootstrap.metadataVersionFeature
        let featureNames = features.keys.sorted()
        for name in featureNames.filter({ $0 == metadataVersion }) + featureNames.filter({ $0 != metadataVersion }) {
            records.append(.featureLevel(FeatureLevelRecord(name: name, featureLevel: features[name]!)))
        }
        for id in brokers.keys.sorted() {
            records.append(.registerBroker(brokers[id]!.registerRecord))
        }
        for name in topicIdsByName.keys.sorted() {
            let topic = topicsById[topicIdsByName[name]!]!
            records.append(.topic(TopicRecord(name: topic.name, topicId: topic.id)))
            for index in topic.partitions.keys.sorted() {
                records.append(.partition(topic.partitions[index]!.record(topicId: topic.id, index: index)))
            }
        }
        for resource in configs.keys.sorted(by: { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }) {
            let entries = configs[resource]!
            for name in entries.keys.sorted() {
                records.append(.config(ConfigRecord(
                    resourceType: resource.kind.rawValue, resourceName: resource.name, name: name, value: entries[name]!)))
            }
        }
        if nextProducerId > 0 {
            // Not one broker's allocation but the high mark itself, as Kafka's `ProducerIdsImage` writes it.
            records.append(.producerIds(ProducerIdsRecord(brokerId: -1, brokerEpoch: -1, nextProducerId: nextProducerId)))
        }
        return records
    }
}

extension BrokerRegistration {
    /// The registration with its current fencing and controlled-shutdown state folded in, as Kafka's
    /// `BrokerRegistration.toRecord` writes it into snapshots.
    var registerRecord: RegisterBrokerRecord {
        RegisterBrokerRecord(
            brokerId: id, incarnationId: incarnationId, brokerEpoch: epoch, endPoints: endpoints, features: features,
            rack: rack, fenced: fenced, inControlledShutdown: inControlledShutdown, logDirs: logDirs)
    }
}

extension PartitionRegistration {
    func record(topicId: KafkaUUID, index: Int32) -> PartitionRecord {
        PartitionRecord(
            partitionId: index, topicId: topicId, replicas: replicas, isr: isr, leader: leader, leaderEpoch: leaderEpoch,
            partitionEpoch: partitionEpoch)
    }
}
