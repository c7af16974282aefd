import MartletProtocol

/// A broker as the metadata log describes it: what it registered with, and the fencing state the
/// controller has since recorded for it.
public struct BrokerRegistration: Hashable, Sendable {
    public var id: Int32
    /// Which process registered; a restarted broker comes back with a new one.
    public var incarnationId: KafkaUUID
    /// The fencing token the broker must present in heartbeats (KRaft uses the registration's log offset).
    public var epoch: Int64
    /// Where the RegisterBrokerRecord sits in the log: the broker is unfenced only once it has replayed
    /// the log this far (`BrokerHeartbeatManager.calculateNextBrokerState`).
    public var registrationOffset: Int64
    public var endpoints: [RegisterBrokerRecord.BrokerEndpoint]
    public var features: [RegisterBrokerRecord.BrokerFeature]
    public var rack: String?
    public var logDirs: [KafkaUUID]
    public var fenced: Bool
    public var inControlledShutdown: Bool

    /// Whether the broker may lead partitions or receive new replicas: unfenced and not shutting down
    /// (`ClusterControlManager.isActive`).
    public var isActive: Bool { !fenced && !inControlledShutdown }
}
