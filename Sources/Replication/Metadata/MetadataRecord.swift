import MartletProtocol

/// One record of the `__cluster_metadata` log, as the controller writes it and every node replays it.
///
/// An enum rather than `any KafkaMetadataRecord` so that replay can switch exhaustively: adding a case
/// makes the compiler point at every place (image, framing) that must learn it.
public enum MetadataRecord: Hashable, Sendable {
    case registerBroker(RegisterBrokerRecord)
    case unregisterBroker(UnregisterBrokerRecord)
    case topic(TopicRecord)
    case partition(PartitionRecord)
    case config(ConfigRecord)
    case partitionChange(PartitionChangeRecord)
    case fenceBroker(FenceBrokerRecord)
    case unfenceBroker(UnfenceBrokerRecord)
    case removeTopic(RemoveTopicRecord)
    case featureLevel(FeatureLevelRecord)
    case producerIds(ProducerIdsRecord)
    case brokerRegistrationChange(BrokerRegistrationChangeRecord)
    case noOp(NoOpRecord)
    case registerController(RegisterControllerRecord)

    /// The record type (the spec's `apiKey`), which the frame carries ahead of the body.
    public var recordType: Int16 {
        switch self {
        case .registerBroker: RegisterBrokerRecord.recordType
        case .unregisterBroker: UnregisterBrokerRecord.recordType
        case .topic: TopicRecord.recordType
        case .partition: PartitionRecord.recordType
        case .config: ConfigRecord.recordType
        case .partitionChange: PartitionChangeRecord.recordType
        case .fenceBroker: FenceBrokerRecord.recordType
        case .unfenceBroker: UnfenceBrokerRecord.recordType
        case .removeTopic: RemoveTopicRecord.recordType
        case .featureLevel: FeatureLevelRecord.recordType
        case .producerIds: ProducerIdsRecord.recordType
        case .brokerRegistrationChange: BrokerRegistrationChangeRecord.recordType
        case .noOp: NoOpRecord.recordType
        case .registerController: RegisterControllerRecord.recordType
        }
    }
}
