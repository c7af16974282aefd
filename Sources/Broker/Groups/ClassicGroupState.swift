/// The states of a classic group, named as Kafka names them in DescribeGroups and ListGroups.
///
/// Empty -> PreparingRebalance (a member joins) -> CompletingRebalance (every member rejoined or the
/// rebalance timeout passed) -> Stable (the leader's SyncGroup brought the assignment); any membership change
/// goes back to PreparingRebalance, and a rebalance that ends with no members goes back to Empty. Dead is
/// for a group whose coordinator partition was unloaded.
public enum ClassicGroupState: String, Sendable, Hashable, CaseIterable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"

    /// The name on the wire.
    public var name: String { rawValue }

    /// States a group may come from; Kafka's `ClassicGroupState.validPreviousStates`.
    var validPreviousStates: Set<ClassicGroupState> {
        switch self {
        case .empty: [.preparingRebalance]
        case .preparingRebalance: [.stable, .completingRebalance, .empty]
        case .completingRebalance: [.preparingRebalance]
        case .stable: [.completingRebalance]
        case .dead: [.stable, .preparingRebalance, .completingRebalance, .empty, .dead]
        }
    }
}
