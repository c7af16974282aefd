import MartletProtocol
import Testing

@testable import MartletReplication

/// A controller driven the way the real driver will drive it: each command gets the next log offset, its
/// records are appended to an in-memory log, and the clock is a plain number the test moves.
struct ControllerHarness {
    static let clusterId = "martlet-test-cluster"

    /// The topic configs the tests accept: a list, a bounded number and a free number.
    static let schema = TopicConfigSchema(keys: [
        "cleanup.policy": .init(isList: true, defaultValue: "delete", problem: { value in
            value.split(separator: ",").allSatisfy { ["delete", "compact"].contains($0) } ? nil : "must be a list of delete and compact"
        }),
        "min.insync.replicas": .init(problem: { value in (Int(value) ?? 0) >= 1 ? nil : "must be at least 1" }),
        "retention.ms": .init(problem: { value in Int64(value) == nil ? "must be a number" : nil }),
    ])

    var state: ControllerState
    var log: [(offset: Int64, record: MetadataRecord)] = []
    var now: Int64 = 1_000
    /// Offsets also go to Raft's own entries (leader changes, no-ops), so the log has gaps the controller
    /// must not assume away.
    var nextOffset: Int64 = 10

    /// A bootstrapped cluster with `brokers` brokers (ids 1...n) registered and unfenced.
    init(brokers: Int = 3, seed: UInt64 = 7, sessionTimeoutMs: Int64 = 9000) {
        var config = ControllerConfig(clusterId: Self.clusterId, topicConfigs: Self.schema)
        config.brokerSessionTimeoutMs = sessionTimeoutMs
        state = ControllerState(image: MetadataImage(), config: config, now: now, random: SplitMix64(seed: seed))
        append(state.bootstrap(nextOffset: nextOffset))
        for id in Int32(1)..<Int32(brokers + 1) {
            let registration = run { $0.registerBroker(Self.registration(id), nextOffset: $1.offset, now: $1.now) }
            #expect(registration.response.errorCode == 0)
            let heartbeat = run { $0.heartbeat(Self.heartbeat(id, epoch: registration.response.brokerEpoch, offset: $1.offset), nextOffset: $1.offset, now: $1.now) }
            #expect(heartbeat.response.isFenced == false)
        }
    }

    static func registration(_ id: Int32, incarnation: UInt64 = 1, clusterId: String = clusterId) -> BrokerRegistrationRequest {
        BrokerRegistrationRequest(
            brokerId: id, clusterId: clusterId, incarnationId: KafkaUUID(mostSignificantBits: UInt64(id), leastSignificantBits: incarnation),
            listeners: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: UInt16(9090 + id), securityProtocol: 0)],
            features: [.init(name: "metadata.version", minSupportedVersion: 1, maxSupportedVersion: ControllerBootstrap.metadataVersionLevel)],
            rack: nil)
    }

    static func heartbeat(_ id: Int32, epoch: Int64, offset: Int64, wantShutDown: Bool = false) -> BrokerHeartbeatRequest {
        BrokerHeartbeatRequest(brokerId: id, brokerEpoch: epoch, currentMetadataOffset: offset, wantShutDown: wantShutDown)
    }

    /// Where and when a command runs: the offset its first record takes, and the clock.
    struct Moment {
        var offset: Int64
        var now: Int64
    }

    /// Runs a command at the next offset and appends what it emits.
    mutating func run<Response>(_ command: (inout ControllerState, Moment) -> ControllerResult<Response>) -> ControllerResult<Response> {
        let result = command(&state, Moment(offset: nextOffset, now: now))
        append(result.records)
        return result
    }

    mutating func append(_ records: [MetadataRecord]) {
        for record in records {
            log.append((nextOffset, record))
            nextOffset += 1
        }
        nextOffset += 1
    }

    mutating func tick(advancingBy milliseconds: Int64) -> [MetadataRecord] {
        now += milliseconds
        let records = state.tick(now: now, nextOffset: nextOffset)
        append(records)
        return records
    }

    /// Every broker except `silent` heartbeats as caught up to the end of the log.
    mutating func heartbeatAll(except silent: Set<Int32> = []) {
        for broker in state.image.brokers.values.sorted(by: { $0.id < $1.id }) where !silent.contains(broker.id) {
            _ = run { $0.heartbeat(Self.heartbeat(broker.id, epoch: broker.epoch, offset: $1.offset), nextOffset: $1.offset, now: $1.now) }
        }
    }

    mutating func createTopic(_ name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String] = [:]) -> CreateTopicsResponse.CreatableTopicResult {
        let request = CreateTopicsRequest(topics: [.init(
            name: name, numPartitions: partitions, replicationFactor: replicationFactor,
            configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })])
        return run { $0.createTopics(request, nextOffset: $1.offset) }.response.topics[0]
    }

    func epoch(of broker: Int32) -> Int64 { state.image.brokers[broker]!.epoch }

    /// What a broker builds by replaying the log from the start, through the wire format, and how much of
    /// the log it has replayed.
    var replica = MetadataImage()
    var replicated = 0

    /// The controller's own image must be exactly what replaying its log yields, and no partition may be
    /// led by a broker that is fenced or shutting down.
    mutating func expectReplayMatches(sourceLocation: SourceLocation = #_sourceLocation) throws {
        for entry in log[replicated...] {
            try replica.apply(MetadataRecord(framed: entry.record.encoded()), at: entry.offset)
        }
        replicated = log.count
        #expect(replica == state.image, sourceLocation: sourceLocation)
        for topic in state.image.topicsById.values {
            for (index, partition) in topic.partitions where partition.leader != PartitionRegistration.noLeader {
                #expect(state.image.brokers[partition.leader]?.isActive == true, "\(topic.name)-\(index) led by \(partition.leader)", sourceLocation: sourceLocation)
            }
        }
    }
}
