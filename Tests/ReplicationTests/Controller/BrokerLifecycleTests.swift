import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Controller: broker lifecycle")
struct BrokerLifecycleTests {
    @Test("registration writes a fenced RegisterBrokerRecord whose offset is the broker epoch")
    func register() throws {
        var harness = ControllerHarness(brokers: 0)
        let offset = harness.nextOffset
        let result = harness.run { $0.registerBroker(ControllerHarness.registration(4), nextOffset: $1.offset, now: $1.now) }
        #expect(result.response.errorCode == 0)
        #expect(result.response.brokerEpoch == offset)
        guard case .registerBroker(let record) = try #require(result.records.first) else { Issue.record("not a registration"); return }
        #expect(record.brokerId == 4 && record.brokerEpoch == offset && record.fenced)
        #expect(record.endPoints.map(\.port) == [9094])
        #expect(harness.state.image.brokers[4]?.registrationOffset == offset)
        try harness.expectReplayMatches()
    }

    @Test("another cluster id is INCONSISTENT_CLUSTER_ID and a broker without the metadata.version is UNSUPPORTED_VERSION")
    func registrationRefusals() {
        var harness = ControllerHarness(brokers: 0)
        let wrongCluster = harness.run { $0.registerBroker(ControllerHarness.registration(4, clusterId: "other"), nextOffset: $1.offset, now: $1.now) }
        #expect(wrongCluster.response.errorCode == KafkaErrorCode.inconsistentClusterId.rawValue)
        #expect(wrongCluster.records.isEmpty)
        var old = ControllerHarness.registration(4)
        old.features = [.init(name: "metadata.version", minSupportedVersion: 1, maxSupportedVersion: 20)]
        let unsupported = harness.run { $0.registerBroker(old, nextOffset: $1.offset, now: $1.now) }
        #expect(unsupported.response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(unsupported.records.isEmpty && harness.state.image.brokers.isEmpty)
        var inverted = ControllerHarness.registration(4)
        inverted.features = [.init(name: "metadata.version", minSupportedVersion: 30, maxSupportedVersion: 1)]
        #expect(harness.run { $0.registerBroker(inverted, nextOffset: $1.offset, now: $1.now) }.response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        var missing = ControllerHarness.registration(4)
        missing.features = []
        #expect(harness.run { $0.registerBroker(missing, nextOffset: $1.offset, now: $1.now) }.response.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }

    @Test("the same incarnation may register again; a new one must wait until the live session lapses")
    func reregistration() throws {
        var harness = ControllerHarness(brokers: 1)
        let first = harness.epoch(of: 1)
        let again = harness.run { $0.registerBroker(ControllerHarness.registration(1), nextOffset: $1.offset, now: $1.now) }
        #expect(again.response.errorCode == 0 && again.response.brokerEpoch > first)
        _ = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: again.response.brokerEpoch, offset: $1.offset), nextOffset: $1.offset, now: $1.now) }
        #expect(harness.state.image.brokers[1]?.fenced == false)

        let restarted = ControllerHarness.registration(1, incarnation: 2)
        let duplicate = harness.run { $0.registerBroker(restarted, nextOffset: $1.offset, now: $1.now) }
        #expect(duplicate.response.errorCode == KafkaErrorCode.duplicateBrokerRegistration.rawValue)
        #expect(duplicate.records.isEmpty)

        _ = harness.tick(advancingBy: 9001)
        let replaced = harness.run { $0.registerBroker(restarted, nextOffset: $1.offset, now: $1.now) }
        #expect(replaced.response.errorCode == 0)
        #expect(harness.state.image.brokers[1]?.incarnationId == restarted.incarnationId)
        #expect(harness.state.image.brokers[1]?.fenced == true)
        try harness.expectReplayMatches()
    }

    @Test("a registration that replaces a leading broker moves its leaderships away")
    func replacingLeaderMovesLeadership() throws {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("orders", partitions: 6, replicationFactor: 3)
        harness.now += 9001
        let restarted = harness.run { $0.registerBroker(ControllerHarness.registration(2, incarnation: 2), nextOffset: $1.offset, now: $1.now) }
        #expect(restarted.response.errorCode == 0)
        #expect(restarted.records.count == 1 + 6)
        let partitions = try #require(harness.state.image.topic(named: "orders")).partitions.values
        #expect(partitions.allSatisfy { $0.leader != 2 && !$0.isr.contains(2) && $0.leader != -1 })
        try harness.expectReplayMatches()
    }

    @Test("heartbeats from unknown brokers or stale epochs are refused")
    func heartbeatRefusals() {
        var harness = ControllerHarness(brokers: 1)
        let unknown = harness.run { $0.heartbeat(ControllerHarness.heartbeat(9, epoch: 0, offset: 0), nextOffset: $1.offset, now: $1.now) }
        #expect(unknown.response.errorCode == KafkaErrorCode.brokerIdNotRegistered.rawValue)
        let epoch = harness.epoch(of: 1)
        let stale = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch - 1, offset: 0), nextOffset: $1.offset, now: $1.now) }
        #expect(stale.response.errorCode == KafkaErrorCode.staleBrokerEpoch.rawValue)
        #expect(unknown.records.isEmpty && stale.records.isEmpty)
    }

    @Test("a broker is unfenced only once it has replayed its own registration")
    func unfenceWhenCaughtUp() throws {
        var harness = ControllerHarness(brokers: 0)
        let epoch = harness.run { $0.registerBroker(ControllerHarness.registration(4), nextOffset: $1.offset, now: $1.now) }.response.brokerEpoch
        let behind = harness.run { $0.heartbeat(ControllerHarness.heartbeat(4, epoch: epoch, offset: epoch - 1), nextOffset: $1.offset, now: $1.now) }
        #expect(behind.records.isEmpty)
        #expect(behind.response.isFenced && !behind.response.isCaughtUp)
        let caughtUp = harness.run { $0.heartbeat(ControllerHarness.heartbeat(4, epoch: epoch, offset: epoch), nextOffset: $1.offset, now: $1.now) }
        #expect(caughtUp.records == [.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 4, brokerEpoch: epoch, fenced: -1))])
        #expect(!caughtUp.response.isFenced && caughtUp.response.isCaughtUp)
        try harness.expectReplayMatches()
    }

    @Test("a broker silent for the session timeout is fenced: out of every ISR, its leaderships moved, epochs bumped")
    func sessionTimeoutFences() throws {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("orders", partitions: 6, replicationFactor: 3)
        let topic = try #require(harness.state.image.topic(named: "orders"))
        let before = topic.partitions

        harness.now += 5000
        harness.heartbeatAll(except: [2])
        #expect(harness.tick(advancingBy: 3000).isEmpty)
        harness.heartbeatAll(except: [2])
        let records = harness.tick(advancingBy: 2000)
        #expect(records.first == .brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 2, brokerEpoch: harness.epoch(of: 2), fenced: 1)))
        #expect(records.count == 1 + 6)
        #expect(harness.state.image.brokers[2]?.fenced == true)

        let after = try #require(harness.state.image.topic(named: "orders")).partitions
        for (index, partition) in after {
            let old = before[index]!
            #expect(!partition.isr.contains(2))
            #expect(partition.partitionEpoch == old.partitionEpoch + 1)
            #expect(partition.leader != 2 && partition.isr.contains(partition.leader))
            if old.leader == 2 {
                #expect(partition.leaderEpoch == old.leaderEpoch + 1)
                #expect(partition.leader == old.replicas.first { $0 != 2 })
            } else {
                #expect(partition.leaderEpoch == old.leaderEpoch && partition.leader == old.leader)
            }
        }
        try harness.expectReplayMatches()
    }

    @Test("the last ISR member keeps its place when fenced, leaving the partition leaderless until it returns")
    func lastReplicaStays() throws {
        var harness = ControllerHarness(brokers: 1)
        _ = harness.createTopic("solo", partitions: 1, replicationFactor: 1)
        let id = try #require(harness.state.image.topic(named: "solo")?.id)
        _ = harness.tick(advancingBy: 9001)
        #expect(harness.state.image.partition(id, 0) == PartitionRegistration(replicas: [1], isr: [1], leader: -1, leaderEpoch: 1, partitionEpoch: 1))

        let epoch = harness.epoch(of: 1)
        let back = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch, offset: $1.offset), nextOffset: $1.offset, now: $1.now) }
        #expect(!back.response.isFenced)
        #expect(harness.state.image.partition(id, 0) == PartitionRegistration(replicas: [1], isr: [1], leader: 1, leaderEpoch: 2, partitionEpoch: 2))
        try harness.expectReplayMatches()
    }

    @Test("controlled shutdown moves leadership away first, then lets the broker go once the others caught up")
    func controlledShutdown() throws {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("orders", partitions: 6, replicationFactor: 3)
        let epoch = harness.epoch(of: 1)

        let entering = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        #expect(!entering.response.shouldShutDown && !entering.response.isFenced)
        #expect(entering.records.first == .brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 1, brokerEpoch: epoch, inControlledShutdown: 1)))
        #expect(harness.state.image.brokers[1]?.inControlledShutdown == true)
        let partitions = try #require(harness.state.image.topic(named: "orders")).partitions.values
        #expect(partitions.allSatisfy { $0.leader != 1 && !$0.isr.contains(1) })

        let tooEarly = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        #expect(!tooEarly.response.shouldShutDown)

        harness.heartbeatAll(except: [1])
        let done = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        #expect(done.response.shouldShutDown && done.response.isFenced)
        #expect(harness.state.image.brokers[1]?.fenced == true)
        try harness.expectReplayMatches()
    }

    @Test("a broker that leads nothing may shut down at once")
    func shutdownWithoutLeaderships() throws {
        var harness = ControllerHarness(brokers: 2)
        let epoch = harness.epoch(of: 2)
        let result = harness.run { $0.heartbeat(ControllerHarness.heartbeat(2, epoch: epoch, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        #expect(result.response.shouldShutDown && result.response.isFenced)
        #expect(result.records == [.brokerRegistrationChange(BrokerRegistrationChangeRecord(brokerId: 2, brokerEpoch: epoch, fenced: 1))])
        try harness.expectReplayMatches()
    }

    @Test("a broker asking to be fenced is fenced and stays so; a fenced broker asking to shut down may go at once")
    func wantFenceAndFencedShutdown() throws {
        var harness = ControllerHarness(brokers: 2)
        _ = harness.createTopic("orders", partitions: 2, replicationFactor: 2)
        let epoch = harness.epoch(of: 1)
        var request = ControllerHarness.heartbeat(1, epoch: epoch, offset: harness.nextOffset)
        request.wantFence = true
        let fenced = harness.run { [request] in $0.heartbeat(request, nextOffset: $1.offset, now: $1.now) }
        #expect(fenced.response.isFenced && !fenced.response.shouldShutDown)
        #expect(harness.state.image.topic(named: "orders")!.partitions.values.allSatisfy { $0.leader == 2 && $0.isr == [2] })
        request.currentMetadataOffset = harness.nextOffset
        let stillFenced = harness.run { [request] in $0.heartbeat(request, nextOffset: $1.offset, now: $1.now) }
        #expect(stillFenced.records.isEmpty && stillFenced.response.isFenced)
        let shutdown = harness.run { $0.heartbeat(ControllerHarness.heartbeat(1, epoch: epoch, offset: $1.offset, wantShutDown: true), nextOffset: $1.offset, now: $1.now) }
        #expect(shutdown.records.isEmpty && shutdown.response.shouldShutDown && shutdown.response.isFenced)
        try harness.expectReplayMatches()
    }

    @Test("a new controller gives every broker a full session before fencing anyone")
    func failoverGrace() {
        let harness = ControllerHarness(brokers: 2)
        var successor = ControllerState(image: harness.state.image, config: harness.state.config, now: harness.now + 8000, random: SplitMix64(seed: 1))
        #expect(successor.tick(now: harness.now + 9500, nextOffset: harness.nextOffset).isEmpty)
        #expect(successor.tick(now: harness.now + 17_001, nextOffset: harness.nextOffset).count == 2)
    }
}
