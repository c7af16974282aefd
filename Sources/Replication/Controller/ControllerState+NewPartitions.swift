import MartletProtocol

/// What CreateTopics and CreatePartitions share: where new partitions go, the checks on assignments a
/// client gives, and the PartitionRecords that start them.
extension ControllerState {
    /// Kafka's `validateManualPartitionAssignment`, plus its refusal of a partition with no active replica
    /// (it would start without a leader).
    func validateManualAssignment(_ brokers: [Int32], partition: Int32, factor: Int?) throws(ApiError) {
        if brokers.isEmpty { throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes an empty replica list.") }
        var seen: Set<Int32> = []
        for broker in brokers {
            if !seen.insert(broker).inserted {
                throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes the broker \(broker) more than once.")
            }
            if image.brokers[broker] == nil {
                throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes broker \(broker), but no such broker is registered.")
            }
        }
        if let factor, factor != brokers.count {
            throw ApiError(.invalidReplicaAssignment, "The manual partition assignment includes a partition with \(brokers.count) replica(s), but this is inconsistent with previous partitions, which have \(factor) replica(s).")
        }
        if !brokers.contains(where: { image.brokers[$0]?.isActive == true }) {
            throw ApiError(.invalidReplicaAssignment, "All brokers specified in the manual partition assignment for partition \(partition) are fenced or in controlled shutdown.")
        }
    }

    /// New partitions start at epoch 0 with the active replicas as ISR and the first of them leading.
    mutating func addPartitions(_ replicas: [[Int32]], from first: Int32, topicId: KafkaUUID, into batch: inout PendingRecords) {
        for (offset, brokers) in replicas.enumerated() {
            let isr = brokers.filter { image.brokers[$0]?.isActive == true }
            emit(.partition(PartitionRecord(
                partitionId: first + Int32(offset), topicId: topicId, replicas: brokers, isr: isr,
                leader: isr.first ?? PartitionRegistration.noLeader, leaderEpoch: 0, partitionEpoch: 0)), into: &batch)
        }
    }

    /// Round-robin from a random start per topic, so successive topics do not all lead on the same broker.
    /// Brokers in controlled shutdown are left out altogether, as Kafka's usable-broker list leaves them.
    mutating func placement() -> ReplicaPlacement {
        let active = image.activeBrokerIds
        let fenced = image.brokers.values.filter { $0.fenced && !$0.inControlledShutdown }.map(\.id).sorted()
        let start = active.isEmpty ? 0 : Int(random.next() % UInt64(active.count))
        return ReplicaPlacement(active: active, fenced: fenced, start: start)
    }

    /// The most partitions one topic may gain in one request. Kafka bounds the records of one operation
    /// (`QuorumController.MAX_RECORDS_PER_USER_OP`, 10,000); this keeps a request for two billion
    /// partitions from building two billion records.
    static let maxNewPartitionsPerTopic: Int32 = 10_000

    static func checkPartitionLimit(_ count: Int32) throws(ApiError) {
        if count > maxNewPartitionsPerTopic {
            throw ApiError(.invalidPartitions, "Unable to add \(count) partitions in one request: the limit is \(maxNewPartitionsPerTopic).")
        }
    }
}
