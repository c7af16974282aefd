import MartletProtocol
import NIOCore

/// One member of a classic group: who it is, the protocols it can run (in its order of preference, with
/// their metadata), the assignment the leader gave it, and where it is in the current rebalance.
public struct ClassicGroupMember: Sendable, Equatable {
    /// A protocol the member supports: a name (an assignor, for consumers) and its opaque metadata.
    public struct SupportedProtocol: Sendable, Equatable {
        public var name: String
        public var metadata: ByteBuffer

        public init(name: String, metadata: ByteBuffer) {
            self.name = name
            self.metadata = metadata
        }
    }

    /// A JoinGroup or SyncGroup call the member is waiting on, and the version to answer it in.
    struct ParkedCall: Sendable, Equatable {
        var requestID: GroupRequestID
        var apiVersion: Int16
    }

    public let memberId: String
    /// Static membership (KIP-345): the instance id survives restarts, the member id does not.
    public let groupInstanceId: String?
    public let clientId: String
    public let clientHost: String
    public internal(set) var rebalanceTimeoutMs: Int32
    public internal(set) var sessionTimeoutMs: Int32
    public let protocolType: String
    public internal(set) var protocols: [SupportedProtocol]
    /// The leader's assignment for this member, handed over verbatim; empty until the first SyncGroup.
    public internal(set) var assignment: ByteBuffer
    /// When the member last proved it is alive (join, sync, heartbeat, offset commit).
    public internal(set) var lastHeartbeatMs: Int64?
    /// When the member is dropped unless it shows up again; nil while nothing is due.
    public internal(set) var heartbeatDeadlineMs: Int64?

    var awaitingJoin: ParkedCall?
    var awaitingSync: ParkedCall?
    /// Joined but not yet through a completed join phase: such a member may be dropped by the new-member
    /// join timeout even while its JoinGroup is parked.
    var isNew = false

    init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
        rebalanceTimeoutMs: Int32, sessionTimeoutMs: Int32, protocolType: String,
        protocols: [SupportedProtocol], assignment: ByteBuffer = ByteBuffer()
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.sessionTimeoutMs = sessionTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.assignment = assignment
    }

    /// The same member under a new member id (a static member coming back with a fresh id).
    func renamed(_ newMemberId: String) -> ClassicGroupMember {
        ClassicGroupMember(
            memberId: newMemberId, groupInstanceId: groupInstanceId, clientId: clientId, clientHost: clientHost,
            rebalanceTimeoutMs: rebalanceTimeoutMs, sessionTimeoutMs: sessionTimeoutMs, protocolType: protocolType,
            protocols: protocols, assignment: assignment)
    }

    public var isStatic: Bool { groupInstanceId != nil }
    public var isAwaitingJoin: Bool { awaitingJoin != nil }
    public var isAwaitingSync: Bool { awaitingSync != nil }

    /// Members waiting in a rebalance count as alive: they cannot heartbeat while their call is parked.
    /// New members do not, so that a client that went away while parked is eventually dropped.
    var hasSatisfiedHeartbeat: Bool {
        isNew ? false : (isAwaitingJoin || isAwaitingSync)
    }

    /// The metadata the member sent for `protocolName` (empty if it does not support it).
    public func metadata(for protocolName: String?) -> ByteBuffer {
        protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    /// Whether a rejoin carries exactly the protocols the member already has, so nothing needs a rebalance.
    func matches(_ other: [SupportedProtocol]) -> Bool { protocols == other }

    /// The member's vote among protocols every member supports: its most preferred one.
    func vote(among candidates: Set<String>) -> String? {
        protocols.first { candidates.contains($0.name) }?.name
    }
}
