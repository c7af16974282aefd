import MartletProtocol
import Testing

@testable import MartletReplication

/// Random interleavings of every command on a 4-broker cluster: after each step the controller's image must
/// equal a fresh replay of its log and no partition may be led by a fenced or shutting-down broker.
@Suite("Controller: random operations")
struct ControllerRandomOperationTests {
    @Test("every command sequence replays to the controller's own image", arguments: 1...200 as ClosedRange<UInt64>)
    func randomOperations(seed: UInt64) throws {
        var harness = ControllerHarness(brokers: 4, seed: seed)
        var random = SplitMix64(seed: seed &* 0x9E37_79B9)
        var incarnations: [Int32: UInt64] = [:]
        for _ in 0..<100 {
            let broker = Int32(random.next() % 4) + 1
            let topic = "t\(random.next() % 5)"
            switch random.next() % 9 {
            case 0:
                _ = harness.createTopic(topic, partitions: Int32(random.next() % 4) + 1, replicationFactor: Int16(random.next() % 3) + 1)
            case 1:
                let request = DeleteTopicsRequest(topicNames: [topic])
                _ = harness.run { $0.deleteTopics(request, nextOffset: $1.offset) }
            case 2:
                let request = CreatePartitionsRequest(topics: [.init(name: topic, count: Int32(random.next() % 6) + 1)])
                _ = harness.run { $0.createPartitions(request, nextOffset: $1.offset) }
            case 3:
                let request = IncrementalAlterConfigsRequest(resources: [.init(
                    resourceType: 2, resourceName: topic,
                    configs: [.init(name: "cleanup.policy", configOperation: Int8(random.next() % 4), value: random.next() % 2 == 0 ? "compact" : "delete")])])
                _ = harness.run { $0.incrementalAlterConfigs(request, nextOffset: $1.offset) }
            case 4:
                harness.now += Int64(random.next() % 6000)
                harness.heartbeatAll(except: [broker])
            case 5:
                _ = harness.tick(advancingBy: Int64(random.next() % 5000))
            case 6:
                guard let registered = harness.state.image.brokers[broker] else { continue }
                let wantShutDown = random.next() % 3 == 0
                _ = harness.run {
                    $0.heartbeat(ControllerHarness.heartbeat(broker, epoch: registered.epoch, offset: $1.offset, wantShutDown: wantShutDown), nextOffset: $1.offset, now: $1.now)
                }
            case 7:
                harness.now += 9001
                incarnations[broker, default: 1] += 1
                let request = ControllerHarness.registration(broker, incarnation: incarnations[broker, default: 1])
                _ = harness.run { $0.registerBroker(request, nextOffset: $1.offset, now: $1.now) }
            default:
                guard let registered = harness.state.image.brokers[broker] else { continue }
                let request = AllocateProducerIdsRequest(brokerId: broker, brokerEpoch: registered.epoch)
                _ = harness.run { $0.allocateProducerIds(request, nextOffset: $1.offset) }
            }
            try harness.expectReplayMatches()
        }
    }
}
