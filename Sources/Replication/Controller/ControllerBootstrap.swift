import MartletProtocol

/// The records a brand-new cluster's first active controller writes before anything else
/// (Kafka's `BootstrapMetadata`): the finalized `metadata.version`.
///
/// `kraft.version` is not here because Kafka does not keep it in a FeatureLevelRecord: it is a Raft
/// control record (`KRaftVersionRecord`) written by the quorum layer. Optional features such as
/// `group.version` and `transaction.version` stay unset (level 0) because Martlet does not implement the
/// protocols they enable.
public enum ControllerBootstrap {
    public static let metadataVersionFeature = "metadata.version"
    /// `MetadataVersion.IBP_4_0_IV3`, the newest production level of Kafka 4.0: brokers registering must
    /// support it, and it makes the controller write the newest record versions (RegisterBrokerRecord v3,
    /// BrokerRegistrationChangeRecord for fencing, PartitionChangeRecord without leader-epoch bumps on ISR
    /// shrinks).
    public static let metadataVersionLevel: Int16 = 25

    public static var records: [MetadataRecord] {
        [.featureLevel(FeatureLevelRecord(name: metadataVersionFeature, featureLevel: metadataVersionLevel))]
    }
}

extension ControllerState {
    /// The bootstrap records if this is a brand-new cluster (no `metadata.version` finalized yet), else
    /// none; the first active controller calls it before serving anything.
    public mutating func bootstrap(nextOffset: Int64) -> [MetadataRecord] {
        guard image.features[ControllerBootstrap.metadataVersionFeature] == nil else { return [] }
        var batch = PendingRecords(firstOffset: nextOffset)
        for record in ControllerBootstrap.records { emit(record, into: &batch) }
        return batch.records
    }
}
