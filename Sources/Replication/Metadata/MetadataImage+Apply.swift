import MartletProtocol

/// Replay: how each record type changes the image (Kafka's `*ControlManager.replay` methods).
extension MetadataImage {
    /// Applies `record`, which sits at `offset` in the log. A record that does not fit throws and leaves
    /// the image unchanged except for `lastAppliedOffset`, which advances either way: the record is in the
    /// log and will not come again, and brokers report that offset in heartbeats.
    public mutating func apply(_ record: MetadataRecord, at offset: Int64) throws(MetadataImageError) {
        guard offset > lastAppliedOffset else {
            throw .offsetNotIncreasing(offset: offset, lastApplied: lastAppliedOffset)
        }
        setLastAppliedOffset(offset)
        try replay(record, at: offset)
    }

    /// An empty image that the records of a snapshot ending at `endOffset` (its id's offset) are about to
    /// fill through `apply(snapshotRecord:)`; log entries continue at `endOffset`.
    public init(snapshotEndOffset endOffset: Int64) {
        self.init()
        setLastAppliedOffset(endOffset - 1)
    }

    /// Applies one record read from a snapshot, into an image made by `init(snapshotEndOffset:)`. A
    /// snapshot does not say where its records were first written, so each counts as written at the
    /// snapshot's last contained offset, as Kafka's controller replays them
    /// (`QuorumController.handleLoadSnapshot`): a broker registered in the snapshot is then unfenced only
    /// once it has replayed the log that far, never earlier than its real registration allowed.
    public mutating func apply(snapshotRecord record: MetadataRecord) throws(MetadataImageError) {
        try replay(record, at: lastAppliedOffset)
    }

    private mutating func replay(_ record: MetadataRecord, at offset: Int64) throws(MetadataImageError) {
        switch record {
        case .registerBroker(let record): replay(record, at: offset)
        case .unregisterBroker(let record):
            _ = try broker(record.brokerId, epoch: record.brokerEpoch)
            setBroker(nil, id: record.brokerId)
        case .topic(let record): try replay(record)
        case .partition(let record): try replay(record)
        case .config(let record): try replay(record)
        case .partitionChange(let record): try replay(record)
        case .fenceBroker(let record):
            var broker = try broker(record.id, epoch: record.epoch)
            broker.fenced = true
            setBroker(broker, id: broker.id)
        case .unfenceBroker(let record):
            var broker = try broker(record.id, epoch: record.epoch)
            broker.fenced = false
            setBroker(broker, id: broker.id)
        case .removeTopic(let record):
            guard let topic = topicsById[record.topicId] else { throw .unknownTopicId(record.topicId) }
            removeTopic(topic)
        case .featureLevel(let record): setFeature(record.name, record.featureLevel)
        case .producerIds(let record):
            guard record.nextProducerId > nextProducerId else {
                throw .producerIdNotIncreasing(current: nextProducerId, proposed: record.nextProducerId)
            }
            setNextProducerId(record.nextProducerId)
        case .brokerRegistrationChange(let record): try replay(record)
        case .noOp, .registerController:
            // Controller registrations matter to the quorum driver, not to this image.
            break
        }
    }

    private func broker(_ id: Int32, epoch: Int64) throws(MetadataImageError) -> BrokerRegistration {
        guard let broker = brokers[id] else { throw .unknownBroker(id) }
        guard broker.epoch == epoch else { throw .staleBrokerEpoch(brokerId: id, expected: broker.epoch, got: epoch) }
        return broker
    }

    /// A registration replaces any earlier one for the id, whatever its state.
    private mutating func replay(_ record: RegisterBrokerRecord, at offset: Int64) {
        setBroker(BrokerRegistration(
            id: record.brokerId, incarnationId: record.incarnationId, epoch: record.brokerEpoch,
            registrationOffset: offset, endpoints: record.endPoints, features: record.features,
            rack: record.rack, logDirs: record.logDirs, fenced: record.fenced,
            inControlledShutdown: record.inControlledShutdown), id: record.brokerId)
    }

    /// `BrokerRegistrationFencingChange`: 1 fences, -1 unfences, 0 leaves it; `InControlledShutdownChange`:
    /// 1 enters controlled shutdown, 0 leaves it.
    private mutating func replay(_ record: BrokerRegistrationChangeRecord) throws(MetadataImageError) {
        var broker = try broker(record.brokerId, epoch: record.brokerEpoch)
        switch record.fenced {
        case 1: broker.fenced = true
        case -1: broker.fenced = false
        case 0: break
        default: throw .invalidFencingChange(brokerId: record.brokerId, value: record.fenced)
        }
        switch record.inControlledShutdown {
        case 1: broker.inControlledShutdown = true
        case 0: break
        default: throw .invalidControlledShutdownChange(brokerId: record.brokerId, value: record.inControlledShutdown)
        }
        if !record.logDirs.isEmpty { broker.logDirs = record.logDirs }
        setBroker(broker, id: broker.id)
    }

    private mutating func replay(_ record: TopicRecord) throws(MetadataImageError) {
        guard topicIdsByName[record.name] == nil else { throw .duplicateTopicName(record.name) }
        guard topicsById[record.topicId] == nil else { throw .duplicateTopicId(record.topicId) }
        setTopic(TopicImage(id: record.topicId, name: record.name, partitions: [:]))
    }

    private mutating func replay(_ record: PartitionRecord) throws(MetadataImageError) {
        guard var topic = topicsById[record.topicId] else { throw .unknownTopicId(record.topicId) }
        let partition = PartitionRegistration(
            replicas: record.replicas, isr: record.isr, leader: record.leader,
            leaderEpoch: record.leaderEpoch, partitionEpoch: record.partitionEpoch)
        if let reason = Self.problem(with: partition, index: record.partitionId) {
            throw .invalidPartition(topicId: record.topicId, partition: record.partitionId, reason: reason)
        }
        topic.partitions[record.partitionId] = partition
        setTopic(topic)
    }

    /// Only the fields the record carries change; a leader other than -2 (`NO_LEADER_CHANGE`) starts a
    /// new leader epoch, and every change starts a new partition epoch.
    private mutating func replay(_ record: PartitionChangeRecord) throws(MetadataImageError) {
        guard var topic = topicsById[record.topicId] else { throw .unknownTopicId(record.topicId) }
        guard var partition = topic.partitions[record.partitionId] else {
            throw .unknownPartition(topicId: record.topicId, partition: record.partitionId)
        }
        if let replicas = record.replicas { partition.replicas = replicas }
        if let isr = record.isr { partition.isr = isr }
        if record.leader != PartitionChangeRecord.noLeaderChange {
            partition.leader = record.leader
            partition.leaderEpoch += 1
        }
        partition.partitionEpoch += 1
        if let reason = Self.problem(with: partition, index: record.partitionId) {
            throw .invalidPartition(topicId: record.topicId, partition: record.partitionId, reason: reason)
        }
        topic.partitions[record.partitionId] = partition
        setTopic(topic)
    }

    private static func problem(with partition: PartitionRegistration, index: Int32) -> String? {
        if index < 0 { return "negative partition id" }
        if partition.replicas.isEmpty { return "no replicas" }
        if Set(partition.replicas).count != partition.replicas.count { return "a replica listed twice" }
        if !partition.isr.allSatisfy(partition.replicas.contains) { return "ISR \(partition.isr) not within replicas \(partition.replicas)" }
        if partition.leader != PartitionRegistration.noLeader && !partition.isr.contains(partition.leader) {
            return "leader \(partition.leader) not in ISR \(partition.isr)"
        }
        return nil
    }

    private mutating func replay(_ record: ConfigRecord) throws(MetadataImageError) {
        guard let kind = ConfigResource.Kind(rawValue: record.resourceType) else {
            throw .unknownConfigResourceType(record.resourceType)
        }
        setConfig(ConfigResource(kind, record.resourceName), record.name, record.value)
    }
}

extension PartitionChangeRecord {
    /// The `Leader` value meaning "unchanged" (`LeaderConstants.NO_LEADER_CHANGE`).
    public static let noLeaderChange: Int32 = -2
}
