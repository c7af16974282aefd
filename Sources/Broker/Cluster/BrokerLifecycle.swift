import Logging
import MartletProtocol
import MartletReplication

/// A broker's membership of the cluster (Kafka's `BrokerLifecycleManager`, KIP-631): it registers with
/// the active controller, which records it fenced, and heartbeats every `broker.heartbeat.interval.ms`
/// with the metadata offset it has applied. The controller reports it caught up once that offset passes
/// its registration; the broker then opens its listener and declares itself ready (`setReadyToUnfence`),
/// and only then asks to be unfenced, so no client is sent to a port that is not open yet. A heartbeat that
/// finds the registration gone or replaced registers again. On shutdown it asks to shut down, and the
/// controller moves its leaderships away before it says yes.
actor BrokerLifecycle {
    private let config: BrokerConfig
    /// The cluster this broker's log directories belong to; the controller refuses any other.
    private var clusterId = ""
    private let channel: ControllerChannel
    /// The offset of the last metadata record this broker has applied and serves.
    private let appliedOffset: @Sendable () async -> Int64
    private let logger: Logger
    /// A new one every start, so the controller tells a restarted broker from a retrying one.
    private let incarnationId = KafkaUUID.random()
    /// The epoch of the current registration, nil while not registered.
    private(set) var brokerEpoch: Int64?
    /// The fencing state the last heartbeat reported; a broker starts fenced.
    private(set) var isFenced = true
    /// Whether the last heartbeat said this broker has applied the metadata log past its registration.
    private(set) var isCaughtUp = false
    /// Set once the broker serves (listener bound): until then heartbeats ask to stay fenced.
    private var readyToUnfence = false
    /// A registration request is on its way: its answer may still make this broker registered.
    private var registering = false
    /// Set by `shutDown`: the regular heartbeats stop, so none of them reports a state the shutdown left.
    private var shuttingDown = false

    /// What this broker supports of the finalized features: `metadata.version` up to Kafka 4.0's.
    static let supportedFeatures = [
        BrokerRegistrationRequest.Feature(
            name: ControllerBootstrap.metadataVersionFeature, minSupportedVersion: 1,
            maxSupportedVersion: ControllerBootstrap.metadataVersionLevel),
    ]
    /// How long one registration or heartbeat may take, failing over to another controller included.
    private var requestTimeoutMs: Int64 { max(2 * config.brokerHeartbeatIntervalMs, 1_000) }
    static let registrationVersion: Int16 = 4
    static let heartbeatVersion: Int16 = 1

    init(config: BrokerConfig, channel: ControllerChannel, appliedOffset: @escaping @Sendable () async -> Int64, logger: Logger) {
        self.config = config
        self.channel = channel
        self.appliedOffset = appliedOffset
        self.logger = logger
    }

    /// Registers with `clusterId`, then heartbeats until cancelled.
    func run(clusterId: String) async {
        self.clusterId = clusterId
        let interval = Duration.milliseconds(config.brokerHeartbeatIntervalMs)
        while !Task.isCancelled && !shuttingDown {
            if brokerEpoch == nil {
                await register()
            } else {
                _ = await heartbeat(wantShutDown: false)
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The broker serves: the next heartbeat, sent now, asks to be unfenced.
    func setReadyToUnfence() async {
        readyToUnfence = true
        if brokerEpoch != nil && !shuttingDown { _ = await heartbeat(wantShutDown: false) }
    }

    /// Controlled shutdown: heartbeats asking to shut down until the controller agrees (its leaderships
    /// moved to other brokers) or `timeoutMs` passes, so clients switch leaders before this one goes. A
    /// registration still on its way is waited for, since its answer registers this broker all the same.
    func shutDown(timeoutMs: Int64) async {
        shuttingDown = true
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while ContinuousClock.now < deadline {
            if brokerEpoch == nil {
                guard registering else { return }
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if await heartbeat(wantShutDown: true) {
                logger.info("broker \(config.nodeId): the controller agreed to the controlled shutdown")
                return
            }
            try? await Task.sleep(for: .milliseconds(min(config.brokerHeartbeatIntervalMs, 500)))
        }
        logger.warning("broker \(config.nodeId): controlled shutdown not confirmed in \(timeoutMs) ms, stopping anyway")
    }

    private func register() async {
        var request = BrokerRegistrationRequest()
        request.brokerId = config.nodeId
        request.clusterId = clusterId
        request.incarnationId = incarnationId
        request.listeners = config.advertisedListeners.map {
            .init(name: $0.name, host: $0.host, port: UInt16($0.port), securityProtocol: Self.plaintext)
        }
        request.features = Self.supportedFeatures
        request.rack = nil
        request.previousBrokerEpoch = brokerEpoch ?? -1
        registering = true
        defer { registering = false }
        do {
            let response = try await channel.send(
                request, version: Self.registrationVersion, timeoutMs: requestTimeoutMs,
                isNotController: { $0.errorCode == KafkaErrorCode.notController.rawValue })
            guard response.errorCode == 0 else {
                logger.error("broker \(config.nodeId): registration refused with error \(response.errorCode)")
                return
            }
            brokerEpoch = response.brokerEpoch
            logger.info("broker \(config.nodeId): registered with broker epoch \(response.brokerEpoch), fenced until caught up")
        } catch {
            logger.warning("broker \(config.nodeId): cannot register yet: \(error.message)")
        }
    }

    /// One heartbeat; returns whether the controller said to shut down.
    private func heartbeat(wantShutDown: Bool) async -> Bool {
        guard let epoch = brokerEpoch else { return false }
        var request = BrokerHeartbeatRequest()
        request.brokerId = config.nodeId
        request.brokerEpoch = epoch
        request.currentMetadataOffset = await appliedOffset()
        request.wantFence = !readyToUnfence
        request.wantShutDown = wantShutDown
        let response: BrokerHeartbeatResponse
        do {
            response = try await channel.send(
                request, version: Self.heartbeatVersion, timeoutMs: requestTimeoutMs,
                isNotController: { $0.errorCode == KafkaErrorCode.notController.rawValue })
        } catch {
            logger.warning("broker \(config.nodeId): heartbeat not answered: \(error.message)")
            return false
        }
        switch KafkaErrorCode(rawValue: response.errorCode) ?? .unknownServerError {
        case .none:
            break
        case .staleBrokerEpoch, .brokerIdNotRegistered:
            logger.warning("broker \(config.nodeId): registration \(epoch) is gone (error \(response.errorCode)), registering again")
            brokerEpoch = nil
            isFenced = true
            isCaughtUp = false
            return false
        default:
            logger.warning("broker \(config.nodeId): heartbeat error \(response.errorCode)")
            return false
        }
        if isFenced != response.isFenced {
            logger.info("broker \(config.nodeId): \(response.isFenced ? "fenced" : "unfenced") by the controller")
        }
        isFenced = response.isFenced
        isCaughtUp = response.isCaughtUp
        return response.shouldShutDown
    }

    /// Kafka's `SecurityProtocol.PLAINTEXT`, the only protocol Martlet's listeners speak.
    static let plaintext: Int16 = 0
}
