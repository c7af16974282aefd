import Foundation
import MartletClients
import MartletProtocol
import MartletReplication
import Testing

@testable import MartletBroker

/// The active controller over real sockets: commands sent as Kafka requests to three in-process
/// controllers are answered only once committed, land in every controller's image, and survive the loss
/// of the controller that ran them.
@Suite("Active controller", .serialized)
struct ActiveControllerTests {
    typealias Cluster = ControllerQuorumTests.Cluster

    static let brokerIds: [Int32] = [101, 102, 103]

    /// The leader once it is the active controller (its epoch committed), within `seconds`.
    static func activeController(_ cluster: Cluster, within seconds: Double, excluding: Int32? = nil) async -> Int32? {
        guard let leader = await cluster.leader(within: seconds, excluding: excluding) else { return nil }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await cluster.servers[leader]?.driver.isActiveController == true { return leader }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Registers the brokers and heartbeats each once it has "replayed" its registration, which unfences it.
    /// Returns each broker's epoch.
    @discardableResult
    static func registerBrokers(_ connection: KafkaConnection) async throws -> [Int32: Int64] {
        var epochs: [Int32: Int64] = [:]
        for id in brokerIds {
            let registration = try await connection.send(BrokerRegistrationRequest(
                brokerId: id, clusterId: ControllerQuorumTests.clusterId,
                incarnationId: KafkaUUID(mostSignificantBits: UInt64(id), leastSignificantBits: 1),
                listeners: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: UInt16(9000 + id), securityProtocol: 0)],
                features: [.init(name: ControllerBootstrap.metadataVersionFeature, minSupportedVersion: 1,
                                 maxSupportedVersion: ControllerBootstrap.metadataVersionLevel)],
                rack: nil), version: 4, timeoutMs: 5000)
            #expect(registration.errorCode == 0)
            let heartbeat = try await connection.send(BrokerHeartbeatRequest(
                brokerId: id, brokerEpoch: registration.brokerEpoch, currentMetadataOffset: registration.brokerEpoch),
                version: 1, timeoutMs: 5000)
            #expect(heartbeat.errorCode == 0 && !heartbeat.isFenced)
            epochs[id] = registration.brokerEpoch
        }
        return epochs
    }

    static func createTopic(_ name: String, on connection: KafkaConnection) async throws -> CreateTopicsResponse.CreatableTopicResult {
        let response = try await connection.send(CreateTopicsRequest(topics: [
            .init(name: name, numPartitions: 6, replicationFactor: 3),
        ]), version: 7, timeoutMs: 5000)
        return try #require(response.topics.first)
    }

    /// Waits until every running controller's committed image does (or does not) hold `topic`.
    static func everyImage(_ cluster: Cluster, has topic: String, _ present: Bool, within seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if cluster.servers.keys.allSatisfy({ (cluster.images[$0]!.image.topic(named: topic) != nil) == present }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test("create after commit, in every image; refused by a follower; after failover exists and can be deleted")
    func createFailoverDelete() async throws {
        let cluster = try Cluster(activeControllers: true)
        try await cluster.run {
            let first = try #require(await Self.activeController(cluster, within: 10))
            let leaderConnection = cluster.connection(first)
            try await Self.registerBrokers(leaderConnection)

            let created = try await Self.createTopic("orders", on: leaderConnection)
            #expect(created.errorCode == 0 && created.numPartitions == 6 && created.replicationFactor == 3)
            let committed = try #require(cluster.images[first]!.image.topic(named: "orders"))
            #expect(committed.id == created.topicId && committed.partitions.count == 6)
            #expect(committed.partitions.values.allSatisfy { Set($0.replicas) == Set(Self.brokerIds) })
            #expect(await Self.everyImage(cluster, has: "orders", true, within: 10))

            let follower = try #require(cluster.ports.keys.sorted().first { $0 != first })
            let followerConnection = cluster.connection(follower)
            let refused = try await Self.createTopic("payments", on: followerConnection)
            #expect(refused.errorCode == KafkaErrorCode.notController.rawValue)

            await cluster.stop(first)
            let second = try #require(await Self.activeController(cluster, within: 10, excluding: first))
            let secondConnection = cluster.connection(second)
            let again = try await Self.createTopic("orders", on: secondConnection)
            #expect(again.errorCode == KafkaErrorCode.topicAlreadyExists.rawValue)
            let deleted = try await secondConnection.send(DeleteTopicsRequest(topics: [.init(name: "orders")]), version: 6, timeoutMs: 5000)
            #expect(deleted.responses.map(\.errorCode) == [0])
            #expect(deleted.responses.first?.topicId == created.topicId)
            #expect(await Self.everyImage(cluster, has: "orders", false, within: 10))
        }
    }

    @Test("a command waiting for commit when its leader loses the quorum is answered NOT_CONTROLLER, and never commits")
    func leadershipLostWhileWaiting() async throws {
        let cluster = try Cluster(activeControllers: true)
        try await cluster.run {
            let first = try #require(await Self.activeController(cluster, within: 10))
            let firstConnection = cluster.connection(first)
            try await Self.registerBrokers(firstConnection)
            let followers = cluster.ports.keys.sorted().filter { $0 != first }
            for id in followers { await cluster.stop(id) }

            // The records are appended but cannot commit; check-quorum makes the leader resign within
            // 1.5 fetch timeouts, which ends its activation and fails the waiting request.
            let asked = Date()
            let orphan = try await Self.createTopic("orphan", on: firstConnection)
            let waitedMs = Date().timeIntervalSince(asked) * 1000
            #expect(orphan.errorCode == KafkaErrorCode.notController.rawValue)
            #expect(waitedMs < Double(ActiveController.commitTimeoutMs) / 3, "answered by the commit timeout, not the lost leadership")
            print("NOT_CONTROLLER after \(String(format: "%.0f", waitedMs)) ms")
            let deposed = await cluster.servers[first]!.driver.status
            #expect(deposed.role != .leader && deposed.logEndOffset > deposed.highWatermark)
            #expect(await cluster.servers[first]!.driver.isActiveController == false)
            #expect(cluster.images[first]!.image.topic(named: "orphan") == nil)

            // The followers elect one of themselves without the deposed leader's tail; it rejoins and
            // truncates that tail, and the topic can be created afresh.
            await cluster.stop(first)
            for id in followers { try await cluster.start(id) }
            let second = try #require(await Self.activeController(cluster, within: 10))
            try await cluster.start(first)
            #expect(await cluster.leader(within: 10) == second)
            #expect(await Self.everyImage(cluster, has: "orphan", false, within: 10))
            #expect(try await Self.createTopic("orphan", on: cluster.connection(second)).errorCode == 0)
            #expect(await Self.everyImage(cluster, has: "orphan", true, within: 10))
        }
    }

    @Test("partition growth, topic configs checked against the broker's table, and producer id blocks")
    func partitionsConfigsProducerIds() async throws {
        let cluster = try Cluster(activeControllers: true)
        try await cluster.run {
            let connection = try cluster.connection(#require(await Self.activeController(cluster, within: 10)))
            let epochs = try await Self.registerBrokers(connection)
            #expect(try await Self.createTopic("orders", on: connection).errorCode == 0)

            let grown = try await connection.send(CreatePartitionsRequest(
                topics: [.init(name: "orders", count: 8, assignments: nil)], timeoutMs: 5000), version: 3, timeoutMs: 5000)
            #expect(grown.results.map(\.errorCode) == [0])

            let retention = { (value: String) in
                IncrementalAlterConfigsRequest(resources: [.init(
                    resourceType: 2, resourceName: "orders", configs: [.init(name: "retention.ms", configOperation: 0, value: value)])])
            }
            let refused = try await connection.send(retention("soon"), version: 1, timeoutMs: 5000)
            #expect(refused.responses.map(\.errorCode) == [KafkaErrorCode.invalidConfig.rawValue])
            let altered = try await connection.send(retention("60000"), version: 1, timeoutMs: 5000)
            #expect(altered.responses.map(\.errorCode) == [0])

            let broker = Self.brokerIds[0]
            let block = { () async throws -> AllocateProducerIdsResponse in
                try await connection.send(AllocateProducerIdsRequest(brokerId: broker, brokerEpoch: epochs[broker]!), version: 0, timeoutMs: 5000)
            }
            let firstBlock = try await block()
            let secondBlock = try await block()
            #expect(firstBlock.errorCode == 0 && secondBlock.errorCode == 0)
            #expect(secondBlock.producerIdStart == firstBlock.producerIdStart + Int64(firstBlock.producerIdLen))

            let deadline = Date().addingTimeInterval(10)
            var converged = false
            while !converged && Date() < deadline {
                converged = cluster.servers.keys.allSatisfy { id in
                    let image = cluster.images[id]!.image
                    return image.topic(named: "orders")?.partitions.count == 8
                        && image.configs[ConfigResource(.topic, "orders")] == ["retention.ms": "60000"]
                        && image.nextProducerId == secondBlock.producerIdStart + Int64(secondBlock.producerIdLen)
                }
                if !converged { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(converged)
        }
    }
}
