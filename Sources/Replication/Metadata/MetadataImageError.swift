import MartletProtocol

/// A record that does not fit the image it is applied to. The image is left as it was (apart from the
/// applied offset) so the caller can log the record and go on replaying.
public enum MetadataImageError: Error, Hashable, Sendable {
    case offsetNotIncreasing(offset: Int64, lastApplied: Int64)
    case unknownBroker(Int32)
    case staleBrokerEpoch(brokerId: Int32, expected: Int64, got: Int64)
    case invalidFencingChange(brokerId: Int32, value: Int8)
    case invalidControlledShutdownChange(brokerId: Int32, value: Int8)
    case duplicateTopicName(String)
    case duplicateTopicId(KafkaUUID)
    case unknownTopicId(KafkaUUID)
    case unknownPartition(topicId: KafkaUUID, partition: Int32)
    case invalidPartition(topicId: KafkaUUID, partition: Int32, reason: String)
    case unknownConfigResourceType(Int8)
    case producerIdNotIncreasing(current: Int64, proposed: Int64)
}
