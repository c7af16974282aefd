import MartletProtocol

/// Leader election and ISR changes when a broker comes or goes (`ReplicationControlManager
/// .generateLeaderAndIsrUpdates` with `PartitionChangeBuilder`'s online election).
extension ControllerState {
    /// Takes `brokerId` out of every ISR it is in and moves leadership off it. The last ISR member is kept,
    /// as Kafka does, so the partition can come back cleanly when that broker returns; such a partition is
    /// left without a leader.
    mutating func removeFromIsrs(_ brokerId: Int32, into batch: inout PendingRecords) {
        for (topicId, index, partition) in partitions(where: { $0.isr.contains(brokerId) }) {
            let remaining = partition.isr.filter { $0 != brokerId }
            let change = partitionChange(topicId, index, partition, targetIsr: remaining.isEmpty ? partition.isr : remaining)
            if let change { emit(.partitionChange(change), into: &batch) }
        }
    }

    /// Elects a leader for every leaderless partition `brokerId` is in the ISR of, now that it is back.
    mutating func electLeaders(onReturnOf brokerId: Int32, into batch: inout PendingRecords) {
        for (topicId, index, partition) in partitions(where: { $0.leader == PartitionRegistration.noLeader && $0.isr.contains(brokerId) }) {
            if let change = partitionChange(topicId, index, partition, targetIsr: partition.isr) {
                emit(.partitionChange(change), into: &batch)
            }
        }
    }

    /// Whether `brokerId` leads any partition.
    func leadsPartitions(_ brokerId: Int32) -> Bool {
        image.topicsById.values.contains { $0.partitions.values.contains { $0.leader == brokerId } }
    }

    /// The change that sets the ISR to `targetIsr` and keeps the current leader if it is still in it and
    /// active, else elects the first active ISR member in replica order (-1 if none). Nil if nothing changes.
    private func partitionChange(
        _ topicId: KafkaUUID, _ index: Int32, _ partition: PartitionRegistration, targetIsr: [Int32]
    ) -> PartitionChangeRecord? {
        let usable = { (id: Int32) in targetIsr.contains(id) && image.brokers[id]?.isActive == true }
        let leader = usable(partition.leader)
            ? partition.leader
            : partition.replicas.first(where: usable) ?? PartitionRegistration.noLeader
        guard leader != partition.leader || targetIsr != partition.isr else { return nil }
        return PartitionChangeRecord(
            partitionId: index, topicId: topicId,
            isr: targetIsr == partition.isr ? nil : targetIsr,
            leader: leader == partition.leader ? PartitionChangeRecord.noLeaderChange : leader)
    }

    /// Partitions matching `predicate`, in a stable order (topic id, then index) so runs replay exactly.
    private func partitions(
        where predicate: (PartitionRegistration) -> Bool
    ) -> [(KafkaUUID, Int32, PartitionRegistration)] {
        image.topicsById.values
            .sorted { ($0.id.mostSignificantBits, $0.id.leastSignificantBits) < ($1.id.mostSignificantBits, $1.id.leastSignificantBits) }
            .flatMap { topic in
                topic.partitions.sorted { $0.key < $1.key }
                    .filter { predicate($0.value) }
                    .map { (topic.id, $0.key, $0.value) }
            }
    }
}
