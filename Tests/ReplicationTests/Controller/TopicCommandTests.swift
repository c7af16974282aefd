import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Controller: topics and partitions")
struct TopicCommandTests {
    @Test("CreateTopics writes the topic, its configs and its partitions, and answers with what it made")
    func create() throws {
        var harness = ControllerHarness(brokers: 3)
        let offset = harness.nextOffset
        let result = harness.createTopic("orders", partitions: 2, replicationFactor: 2, configs: ["retention.ms": "1000"])
        #expect(result.errorCode == 0 && result.errorMessage == nil)
        #expect(result.numPartitions == 2 && result.replicationFactor == 2)
        #expect(result.configs?.map(\.name) == ["retention.ms"])
        let records = harness.log.filter { $0.offset >= offset }.map(\.record)
        #expect(records.map(\.recordType) == [2, 4, 3, 3])
        #expect(records.first == .topic(TopicRecord(name: "orders", topicId: result.topicId)))
        let topic = try #require(harness.state.image.topic(named: "orders"))
        for partition in topic.partitions.values {
            #expect(partition.replicas.count == 2 && Set(partition.replicas).count == 2)
            #expect(partition.isr == partition.replicas && partition.leader == partition.replicas[0])
            #expect(partition.leaderEpoch == 0 && partition.partitionEpoch == 0)
        }
        #expect(harness.state.image.configs[ConfigResource(.topic, "orders")] == ["retention.ms": "1000"])
        try harness.expectReplayMatches()
    }

    @Test("six partitions with three replicas on three brokers: every broker leads two and holds all six")
    func placementSpreadsLeaders() throws {
        for seed: UInt64 in 1...20 {
            var harness = ControllerHarness(brokers: 3, seed: seed)
            _ = harness.createTopic("spread", partitions: 6, replicationFactor: 3)
            let partitions = try #require(harness.state.image.topic(named: "spread")).partitions.values
            let leaders = Dictionary(grouping: partitions, by: \.leader).mapValues(\.count)
            #expect(leaders == [1: 2, 2: 2, 3: 2])
            #expect(partitions.allSatisfy { Set($0.replicas) == [1, 2, 3] })
        }
    }

    @Test("successive topics start their leaders at different brokers")
    func startOffsetVaries() throws {
        var harness = ControllerHarness(brokers: 3, seed: 3)
        var firstLeaders: Set<Int32> = []
        for index in 0..<12 {
            _ = harness.createTopic("t\(index)", partitions: 1, replicationFactor: 1)
            firstLeaders.insert(try #require(harness.state.image.topic(named: "t\(index)")?.partitions[0]?.leader))
        }
        #expect(firstLeaders.count > 1)
    }

    @Test("defaults fill in -1 partitions and replication factor")
    func defaults() {
        var harness = ControllerHarness(brokers: 1)
        let result = harness.createTopic("defaults", partitions: -1, replicationFactor: -1)
        #expect(result.errorCode == 0 && result.numPartitions == 1 && result.replicationFactor == 1)
    }

    @Test("CreateTopics refusals, each for its own topic", arguments: [
        ("bad name!", Int32(1), Int16(1), ["retention.ms": "1"], KafkaErrorCode.invalidTopicException),
        ("", 1, 1, [:], .invalidTopicException),
        (String(repeating: "x", count: 250), 1, 1, [:], .invalidTopicException),
        ("existing", 1, 1, [:], .topicAlreadyExists),
        ("exist.ing", 1, 1, [:], .invalidTopicException),
        ("zero", 0, 1, [:], .invalidPartitions),
        ("huge", Int32.max, 1, [:], .invalidPartitions),
        ("nofactor", 1, 0, [:], .invalidReplicationFactor),
        ("toowide", 1, 4, [:], .invalidReplicationFactor),
        ("unknownconfig", 1, 1, ["no.such.key": "1"], .invalidConfig),
        ("badvalue", 1, 1, ["min.insync.replicas": "0"], .invalidConfig),
    ] as [(String, Int32, Int16, [String: String], KafkaErrorCode)])
    func refusals(name: String, partitions: Int32, factor: Int16, configs: [String: String], code: KafkaErrorCode) {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("exist_ing", partitions: 1, replicationFactor: 1)
        _ = harness.createTopic("existing", partitions: 1, replicationFactor: 1)
        let before = harness.state.image
        let result = harness.createTopic(name, partitions: partitions, replicationFactor: factor, configs: configs)
        #expect(result.errorCode == code.rawValue)
        #expect(result.errorMessage != nil)
        #expect(result.numPartitions == -1 && result.replicationFactor == -1)
        #expect(harness.state.image == before)
    }

    @Test("a repeated name fails both entries, a null config value is refused, validate-only writes nothing")
    func requestLevelRules() {
        var harness = ControllerHarness(brokers: 3)
        let request = CreateTopicsRequest(topics: [
            .init(name: "twice", numPartitions: 1, replicationFactor: 1),
            .init(name: "twice", numPartitions: 1, replicationFactor: 1),
            .init(name: "nullconfig", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: nil)]),
            .init(name: "fine", numPartitions: 3, replicationFactor: 3),
        ], validateOnly: true)
        let result = harness.run { $0.createTopics(request, nextOffset: $1.offset) }
        #expect(result.response.topics.map(\.errorCode) == [KafkaErrorCode.invalidRequest.rawValue, KafkaErrorCode.invalidRequest.rawValue, KafkaErrorCode.invalidConfig.rawValue, 0])
        #expect(result.response.topics[3].numPartitions == 3)
        #expect(result.records.isEmpty && harness.state.image.topic(named: "fine") == nil)
    }

    @Test("replicas beyond the active brokers go to fenced ones, never as leader and not in the ISR")
    func fencedBrokersTakeFollowersOnly() throws {
        var harness = ControllerHarness(brokers: 3)
        harness.heartbeatAll(except: [3])
        harness.now += 9001
        harness.heartbeatAll(except: [3])
        _ = harness.tick(advancingBy: 0)
        #expect(harness.state.image.brokers[3]?.fenced == true)
        _ = harness.createTopic("wide", partitions: 4, replicationFactor: 3)
        let partitions = try #require(harness.state.image.topic(named: "wide")).partitions.values
        #expect(partitions.allSatisfy { $0.replicas.last == 3 && $0.leader != 3 && !$0.isr.contains(3) })
        try harness.expectReplayMatches()
    }

    @Test("manual assignments: placed as given, leader is the first active replica; malformed ones refused")
    func manualAssignments() throws {
        var harness = ControllerHarness(brokers: 3)
        func create(_ name: String, _ assignments: [[Int32]], partitions: Int32 = -1) -> CreateTopicsResponse.CreatableTopicResult {
            let topic = CreateTopicsRequest.CreatableTopic(
                name: name, numPartitions: partitions, replicationFactor: -1,
                assignments: assignments.enumerated().map { .init(partitionIndex: Int32($0.offset), brokerIds: $0.element) })
            return harness.run { $0.createTopics(CreateTopicsRequest(topics: [topic]), nextOffset: $1.offset) }.response.topics[0]
        }
        #expect(create("manual", [[3, 1], [2, 3]]).errorCode == 0)
        let manual = try #require(harness.state.image.topic(named: "manual"))
        #expect(manual.partitions[0] == PartitionRegistration(replicas: [3, 1], isr: [3, 1], leader: 3, leaderEpoch: 0, partitionEpoch: 0))
        #expect(manual.partitions[1]?.leader == 2)
        #expect(create("a", [[1, 1]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(create("b", [[9]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(create("c", [[1], [1, 2]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(create("d", [[]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(create("e", [[1]], partitions: 1).errorCode == KafkaErrorCode.invalidRequest.rawValue)
        try harness.expectReplayMatches()
    }

    @Test("DeleteTopics by name and by id, with Kafka's errors for unknown, repeated and ambiguous entries")
    func delete() throws {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("byname", partitions: 2, replicationFactor: 2, configs: ["retention.ms": "5"])
        let byId = harness.createTopic("byid", partitions: 1, replicationFactor: 1).topicId
        let request = DeleteTopicsRequest(topics: [
            .init(name: nil, topicId: byId),
            .init(name: "missing", topicId: .zero),
            .init(name: nil, topicId: KafkaUUID(mostSignificantBits: 3, leastSignificantBits: 3)),
            .init(name: "other", topicId: KafkaUUID(mostSignificantBits: 5, leastSignificantBits: 5)),
            .init(name: nil, topicId: .zero),
        ], topicNames: ["byname"])
        let result = harness.run { $0.deleteTopics(request, nextOffset: $1.offset) }
        let codes = result.response.responses.map(\.errorCode)
        #expect(codes == [0, 0, KafkaErrorCode.unknownTopicOrPartition.rawValue, KafkaErrorCode.unknownTopicId.rawValue,
                          KafkaErrorCode.invalidRequest.rawValue, KafkaErrorCode.invalidRequest.rawValue])
        #expect(result.response.responses[0].name == "byname" && result.response.responses[1].name == "byid")
        #expect(result.records.map(\.recordType) == [9, 9])
        #expect(harness.state.image.topicsById.isEmpty && harness.state.image.configs.isEmpty)
        try harness.expectReplayMatches()
    }

    @Test("CreatePartitions grows a topic with the same replication factor and refuses anything else")
    func createPartitions() throws {
        var harness = ControllerHarness(brokers: 3)
        _ = harness.createTopic("grow", partitions: 2, replicationFactor: 2)
        func grow(_ name: String, to count: Int32, assignments: [[Int32]]? = nil, validateOnly: Bool = false) -> CreatePartitionsResponse.CreatePartitionsTopicResult {
            let request = CreatePartitionsRequest(
                topics: [.init(name: name, count: count, assignments: assignments?.map { .init(brokerIds: $0) })], validateOnly: validateOnly)
            return harness.run { $0.createPartitions(request, nextOffset: $1.offset) }.response.results[0]
        }
        #expect(grow("grow", to: 5, validateOnly: true).errorCode == 0)
        #expect(harness.state.image.topic(named: "grow")?.partitions.count == 2)
        #expect(grow("grow", to: 5).errorCode == 0)
        let topic = try #require(harness.state.image.topic(named: "grow"))
        #expect(topic.partitions.keys.sorted() == [0, 1, 2, 3, 4])
        #expect(topic.partitions.values.allSatisfy { $0.replicas.count == 2 })
        #expect(grow("grow", to: 5).errorCode == KafkaErrorCode.invalidPartitions.rawValue)
        #expect(grow("grow", to: 3).errorCode == KafkaErrorCode.invalidPartitions.rawValue)
        #expect(grow("nope", to: 3).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(grow("grow", to: 7, assignments: [[1, 2]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(grow("grow", to: 6, assignments: [[1, 2, 3]]).errorCode == KafkaErrorCode.invalidReplicaAssignment.rawValue)
        #expect(grow("grow", to: 6, assignments: [[3, 1]]).errorCode == 0)
        #expect(harness.state.image.topic(named: "grow")?.partitions[5]?.replicas == [3, 1])
        try harness.expectReplayMatches()
    }
}
