import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Controller: topic configs, producer ids and bootstrap")
struct ConfigAndProducerIdTests {
    typealias Op = ControllerState.ConfigOperation

    static func alter(
        _ harness: inout ControllerHarness, _ changes: [(String, Op, String?)], on topic: String = "t", validateOnly: Bool = false
    ) -> (code: Int16, records: [MetadataRecord]) {
        let request = IncrementalAlterConfigsRequest(resources: [.init(
            resourceType: ConfigResource.Kind.topic.rawValue, resourceName: topic,
            configs: changes.map { .init(name: $0.0, configOperation: $0.1.rawValue, value: $0.2) })], validateOnly: validateOnly)
        let result = harness.run { $0.incrementalAlterConfigs(request, nextOffset: $1.offset) }
        return (result.response.responses[0].errorCode, result.records)
    }

    static func configs(_ harness: ControllerHarness) -> [String: String]? {
        harness.state.image.configs[ConfigResource(.topic, "t")]
    }

    @Test("SET, DELETE, APPEND and SUBTRACT, writing only the keys that change")
    func operations() throws {
        var harness = ControllerHarness(brokers: 1)
        _ = harness.createTopic("t", partitions: 1, replicationFactor: 1, configs: ["retention.ms": "100"])
        let set = Self.alter(&harness, [("retention.ms", .set, "200"), ("min.insync.replicas", .set, "1")])
        #expect(set.code == 0 && set.records.count == 2)
        #expect(Self.configs(harness) == ["retention.ms": "200", "min.insync.replicas": "1"])
        #expect(Self.alter(&harness, [("retention.ms", .set, "200")]).records.isEmpty)

        #expect(Self.alter(&harness, [("cleanup.policy", .append, "compact")]).code == 0)
        #expect(Self.configs(harness)?["cleanup.policy"] == "delete,compact")
        #expect(Self.alter(&harness, [("cleanup.policy", .subtract, "delete")]).code == 0)
        #expect(Self.configs(harness)?["cleanup.policy"] == "compact")

        let delete = Self.alter(&harness, [("retention.ms", .delete, nil), ("min.insync.replicas", .delete, nil)])
        #expect(delete.records == [
            .config(ConfigRecord(resourceType: 2, resourceName: "t", name: "retention.ms", value: nil)),
            .config(ConfigRecord(resourceType: 2, resourceName: "t", name: "min.insync.replicas", value: nil)),
        ])
        #expect(Self.configs(harness) == ["cleanup.policy": "compact"])
        try harness.expectReplayMatches()
    }

    @Test("refusals leave the resource untouched", arguments: [
        ("missing", [("retention.ms", Op.set, "1")], KafkaErrorCode.unknownTopicOrPartition),
        ("", [("retention.ms", .set, "1")], .invalidRequest),
        ("t", [("no.such.key", .set, "1")], .invalidConfig),
        ("t", [("retention.ms", .set, "soon")], .invalidConfig),
        ("t", [("retention.ms", .set, nil)], .invalidRequest),
        ("t", [("retention.ms", .append, "1")], .invalidConfig),
        ("t", [("cleanup.policy", .append, "shred")], .invalidConfig),
        ("t", [("retention.ms", .set, "1"), ("retention.ms", .delete, nil)], .invalidRequest),
        ("t", [("retention.ms", .set, "1"), ("min.insync.replicas", .set, "0")], .invalidConfig),
    ] as [(String, [(String, Op, String?)], KafkaErrorCode)])
    func refusals(topic: String, changes: [(String, Op, String?)], code: KafkaErrorCode) {
        var harness = ControllerHarness(brokers: 1)
        _ = harness.createTopic("t", partitions: 1, replicationFactor: 1, configs: ["retention.ms": "100"])
        let result = Self.alter(&harness, changes, on: topic)
        #expect(result.code == code.rawValue)
        #expect(result.records.isEmpty && Self.configs(harness) == ["retention.ms": "100"])
    }

    @Test("unknown operations, other resource types, repeated resources and validate-only")
    func requestLevelRules() {
        var harness = ControllerHarness(brokers: 1)
        _ = harness.createTopic("t", partitions: 1, replicationFactor: 1)
        let request = IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "t", configs: [.init(name: "retention.ms", configOperation: 9, value: "1")]),
            .init(resourceType: 4, resourceName: "1", configs: [.init(name: "log.retention.ms", configOperation: 0, value: "1")]),
        ])
        let result = harness.run { $0.incrementalAlterConfigs(request, nextOffset: $1.offset) }
        #expect(result.response.responses.map(\.errorCode) == [KafkaErrorCode.invalidRequest.rawValue, KafkaErrorCode.invalidRequest.rawValue])
        let twice = IncrementalAlterConfigsRequest(resources: [
            .init(resourceType: 2, resourceName: "t", configs: []), .init(resourceType: 2, resourceName: "t", configs: []),
        ])
        #expect(harness.run { $0.incrementalAlterConfigs(twice, nextOffset: $1.offset) }.response.responses.allSatisfy { $0.errorCode == KafkaErrorCode.invalidRequest.rawValue })
        let validateOnly = Self.alter(&harness, [("retention.ms", .set, "5")], validateOnly: true)
        #expect(validateOnly.code == 0 && validateOnly.records.isEmpty && Self.configs(harness) == nil)
    }

    @Test("producer ids come in blocks of 1000 that never repeat")
    func producerIds() throws {
        var harness = ControllerHarness(brokers: 2)
        let (epoch1, epoch2) = (harness.epoch(of: 1), harness.epoch(of: 2))
        let first = harness.run { $0.allocateProducerIds(AllocateProducerIdsRequest(brokerId: 1, brokerEpoch: epoch1), nextOffset: $1.offset) }
        let second = harness.run { $0.allocateProducerIds(AllocateProducerIdsRequest(brokerId: 2, brokerEpoch: epoch2), nextOffset: $1.offset) }
        #expect(first.response.producerIdStart == 0 && first.response.producerIdLen == 1000)
        #expect(second.response.producerIdStart == 1000 && second.response.producerIdLen == 1000)
        #expect(second.records == [.producerIds(ProducerIdsRecord(brokerId: 2, brokerEpoch: harness.epoch(of: 2), nextProducerId: 2000))])
        #expect(harness.state.image.nextProducerId == 2000)
        try harness.expectReplayMatches()
    }

    @Test("producer ids are refused to unknown brokers and stale epochs")
    func producerIdRefusals() {
        var harness = ControllerHarness(brokers: 1)
        let unknown = harness.run { $0.allocateProducerIds(AllocateProducerIdsRequest(brokerId: 7, brokerEpoch: 0), nextOffset: $1.offset) }
        #expect(unknown.response.errorCode == KafkaErrorCode.brokerIdNotRegistered.rawValue)
        let stale = harness.run { $0.allocateProducerIds(AllocateProducerIdsRequest(brokerId: 1, brokerEpoch: 0), nextOffset: $1.offset) }
        #expect(stale.response.errorCode == KafkaErrorCode.staleBrokerEpoch.rawValue)
        #expect(unknown.records.isEmpty && stale.records.isEmpty && harness.state.image.nextProducerId == 0)
    }

    @Test("a new cluster finalizes metadata.version once")
    func bootstrap() {
        var harness = ControllerHarness(brokers: 0)
        #expect(harness.log.map(\.record) == [.featureLevel(FeatureLevelRecord(name: "metadata.version", featureLevel: 25))])
        #expect(harness.state.image.features == ["metadata.version": 25])
        #expect(harness.state.bootstrap(nextOffset: harness.nextOffset).isEmpty)
    }
}
