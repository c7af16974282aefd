/// Where new partitions' replicas go: round-robin over the active brokers from a per-topic start, so
/// leaders (the first replica) spread evenly. Like Kafka's `StripedReplicaPlacer` (minus racks), fenced
/// brokers take followers only when there are too few active ones, and never lead; the replication
/// factor is refused only when it exceeds all usable brokers, fenced included, or none is active.
struct ReplicaPlacement {
    var active: [Int32]
    var fenced: [Int32]
    /// Where the first partition's leader sits in `active`, drawn at random per topic.
    var start: Int

    /// Replica lists for `count` partitions, the first being the `first`-th partition of the topic.
    func place(first: Int32, count: Int32, replicationFactor: Int16) throws(ApiError) -> [[Int32]] {
        let factor = Int(replicationFactor)
        let registered = active.count + fenced.count
        if factor > registered {
            throw ApiError(.invalidReplicationFactor, "Unable to replicate the partition \(factor) time(s): The target replication factor of \(factor) cannot be reached because only \(registered) broker(s) are registered.")
        }
        if active.isEmpty {
            throw ApiError(.invalidReplicationFactor, "Unable to replicate the partition \(factor) time(s): All brokers are currently fenced.")
        }
        return (0..<Int(count)).map { offset in
            let position = start + Int(first) + offset
            let leading = (0..<min(factor, active.count)).map { active[(position + $0) % active.count] }
            let trailing = (0..<(factor - leading.count)).map { fenced[(position + $0) % fenced.count] }
            return leading + trailing
        }
    }
}
