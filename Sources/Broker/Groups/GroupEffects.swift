import MartletProtocol

/// The driver's handle on a JoinGroup or SyncGroup call the coordinator may park until a rebalance moves on.
/// The driver picks it (unique among calls in flight) and gets the answer back under it, now or later.
public struct GroupRequestID: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    public var description: String { "#\(rawValue)" }
}

/// The answer now due to a parked call.
public struct ParkedAnswer<Response: Sendable & Equatable>: Sendable, Equatable {
    public var requestID: GroupRequestID
    public var response: Response

    public init(_ requestID: GroupRequestID, _ response: Response) {
        self.requestID = requestID
        self.response = response
    }
}

/// What an event asks the driver to do: append `records` to the group's `__consumer_offsets` partition,
/// then send the answers. Answers come after the append because Kafka only answers once the group state
/// they describe is durable (a SyncGroup's assignment, a static member's new id).
///
/// If the append fails, the state here is ahead of the log: the driver answers these calls with the mapped
/// error (Kafka: NOT_COORDINATOR for NOT_LEADER_OR_FOLLOWER and KAFKA_STORAGE_ERROR, COORDINATOR_NOT_AVAILABLE
/// for timeouts and missing replicas) and rebuilds the state from the log, as Kafka reverts to its last
/// committed snapshot.
public struct GroupEffects: Sendable, Equatable {
    public var records: [GroupCoordinatorRecord] = []
    public var joinResponses: [ParkedAnswer<JoinGroupResponse>] = []
    public var syncResponses: [ParkedAnswer<SyncGroupResponse>] = []

    public init() {}

    public var isEmpty: Bool { records.isEmpty && joinResponses.isEmpty && syncResponses.isEmpty }

    public mutating func append(_ other: GroupEffects) {
        records += other.records
        joinResponses += other.joinResponses
        syncResponses += other.syncResponses
    }

    /// The join answer for `id`, if one is due (tests and drivers that wait on one call).
    public func joinResponse(for id: GroupRequestID) -> JoinGroupResponse? {
        joinResponses.first { $0.requestID == id }?.response
    }

    /// The sync answer for `id`, if one is due.
    public func syncResponse(for id: GroupRequestID) -> SyncGroupResponse? {
        syncResponses.first { $0.requestID == id }?.response
    }
}

/// A response that needs no parking, with the effects of the call that made it.
public struct GroupOutcome<Response: Sendable & Equatable>: Sendable, Equatable {
    public var response: Response
    public var effects: GroupEffects

    public init(_ response: Response, _ effects: GroupEffects = GroupEffects()) {
        self.response = response
        self.effects = effects
    }
}
