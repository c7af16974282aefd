import Foundation
import Logging
import MartletClients
import MartletProtocol
import MartletReplication
import NIOCore
import Testing

@testable import MartletBroker

/// Three controllers and two `process.roles=broker` brokers in one process, each on its own 127.0.0.1
/// port, spoken to over real sockets with the generated codecs, as a client would.
@Suite("Brokers under the controllers", .serialized)
struct BrokersUnderControllersTests {
    final class Brokers {
        let controllers: ControllerQuorumTests.Cluster
        var servers: [Int32: BrokerServer] = [:]
        var ports: [Int32: Int] = [:]

        init() throws {
            // Fencing after 1.5 s of silence keeps the stopped-broker test short.
            controllers = try ControllerQuorumTests.Cluster(activeControllers: true, settings: ["broker.session.timeout.ms": "1500"])
        }

        func start(broker id: Int32) async throws {
            let port = try ports[id] ?? ControllerQuorumTests.Cluster.freePort()
            ports[id] = port
            let config = try BrokerConfig([
                ("node.id", "\(id)"), ("process.roles", "broker"), ("controller.quorum.voters", controllers.voters),
                ("controller.listener.names", "CONTROLLER"), ("listeners", "PLAINTEXT://127.0.0.1:\(port)"),
                ("log.dirs", "\(controllers.root)/broker-\(id)"), ("cluster.id", ControllerQuorumTests.clusterId),
                ("broker.heartbeat.interval.ms", "100"), ("offsets.topic.replication.factor", "1"),
            ] + ControllerQuorumTests.timeouts.map { ($0.key, $0.value) })
            var logger = Logger(label: "broker-\(id)")
            logger.logLevel = ProcessInfo.processInfo.environment["MARTLET_TEST_LOG"] == nil ? .warning : .info
            let started = try await BrokerServer.start(config: config, logger: logger)
            let server = try #require(started)
            servers[id] = server
        }

        func stop(broker id: Int32) async {
            await servers.removeValue(forKey: id)?.stop()
        }

        func stopAll() async {
            for id in servers.keys.sorted() { await stop(broker: id) }
            await controllers.stopAll()
        }

        func connection(to id: Int32) -> KafkaConnection {
            KafkaConnection(host: "127.0.0.1", port: ports[id]!, clientId: "test")
        }
    }

    static func metadata(_ connection: KafkaConnection) async throws -> MetadataResponse {
        try await connection.send(MetadataRequest(topics: nil), version: 12, timeoutMs: 5_000)
    }

    static func produce(_ connection: KafkaConnection, topic: String, partition: Int32, value: String) async throws -> Int16 {
        var builder = RecordBatchBuilder(compression: .none)
        builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: value))
        let request = ProduceRequest(
            acks: 1, timeoutMs: 5_000, topicData: [.init(name: topic, partitionData: [.init(index: partition, records: try builder.finish())])])
        let response = try await connection.send(request, version: 9, timeoutMs: 5_000)
        return try #require(response.responses.first?.partitionResponses.first).errorCode
    }

    /// Polls `condition` on broker `id`'s metadata for up to `seconds`.
    static func eventually(_ connection: KafkaConnection, within seconds: Double, _ condition: (MetadataResponse) -> Bool) async throws -> MetadataResponse {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try await metadata(connection)
        while !condition(last) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            last = try await metadata(connection)
        }
        return last
    }

    @Test("register, see each other, create through one broker, serve only as leader, get producer ids from the controller")
    func createAndServe() async throws {
        let cluster = try Brokers()
        do {
            for id in cluster.controllers.ports.keys.sorted() { try await cluster.controllers.start(id) }
            try await cluster.start(broker: 4)
            try await cluster.start(broker: 5)
            let four = cluster.connection(to: 4), five = cluster.connection(to: 5)

            let both = try await Self.eventually(four, within: 5) { $0.brokers.count == 2 }
            #expect(both.brokers.map(\.nodeId).sorted() == [4, 5])
            #expect(both.brokers.first { $0.nodeId == 5 }?.port == Int32(cluster.ports[5]!))

            let create = CreateTopicsRequest(topics: [.init(name: "orders", numPartitions: 2, replicationFactor: 1)], timeoutMs: 5_000)
            let created = try await five.send(create, version: 7, timeoutMs: 10_000)
            #expect(created.topics.first?.errorCode == 0)
            #expect(created.topics.first?.numPartitions == 2)
            let again = try await four.send(create, version: 7, timeoutMs: 10_000)
            #expect(again.topics.first?.errorCode == KafkaErrorCode.topicAlreadyExists.rawValue)
            let tooMany = CreateTopicsRequest(topics: [.init(name: "wide", numPartitions: 1, replicationFactor: 3)], timeoutMs: 5_000)
            #expect(try await four.send(tooMany, version: 7, timeoutMs: 10_000).topics.first?.errorCode == KafkaErrorCode.invalidReplicationFactor.rawValue)

            // The broker that forwarded the creation answered only once its own image had the topic; the
            // other one sees it within a fetch interval.
            let seen = try await Self.eventually(four, within: 5) { $0.topics.contains { $0.name == "orders" } }
            let orders = try #require(seen.topics.first { $0.name == "orders" })
            #expect(Set(orders.partitions.map(\.leaderId)) == [4, 5])
            for partition in orders.partitions {
                let leader = partition.leaderId
                let (leading, following) = leader == 4 ? (four, five) : (five, four)
                #expect(try await Self.produce(leading, topic: "orders", partition: partition.partitionIndex, value: "v") == 0)
                #expect(try await Self.produce(following, topic: "orders", partition: partition.partitionIndex, value: "v") == KafkaErrorCode.notLeaderOrFollower.rawValue)
            }

            let first = try await four.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1), version: 4, timeoutMs: 10_000)
            let second = try await five.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1), version: 4, timeoutMs: 10_000)
            #expect(first.errorCode == 0 && second.errorCode == 0)
            #expect(first.producerId >= 0 && second.producerId >= 0 && first.producerId != second.producerId)
            await four.close()
            await five.close()
        } catch {
            await cluster.stopAll()
            throw error
        }
        await cluster.stopAll()
    }

    @Test("a stopped broker is fenced: no longer listed, its partitions lose their leader; back, it deletes the logs of a topic deleted meanwhile")
    func stoppedBrokerIsFenced() async throws {
        let cluster = try Brokers()
        do {
            for id in cluster.controllers.ports.keys.sorted() { try await cluster.controllers.start(id) }
            try await cluster.start(broker: 4)
            try await cluster.start(broker: 5)
            let four = cluster.connection(to: 4)
            _ = try await Self.eventually(four, within: 5) { $0.brokers.count == 2 }
            let create = CreateTopicsRequest(
                topics: [.init(name: "events", numPartitions: 2, replicationFactor: 1), .init(name: "gone", numPartitions: 2, replicationFactor: 1)],
                timeoutMs: 5_000)
            #expect(try await four.send(create, version: 7, timeoutMs: 10_000).topics.map(\.errorCode) == [0, 0])
            let fiveLogs = "\(cluster.controllers.root)/broker-5"
            let goneOnFive = try FileManager.default.contentsOfDirectory(atPath: fiveLogs).filter { $0.hasPrefix("gone-") }
            #expect(goneOnFive.count == 1)

            await cluster.stop(broker: 5)
            let delete = DeleteTopicsRequest(topicNames: ["gone"], timeoutMs: 5_000)
            #expect(try await four.send(delete, version: 5, timeoutMs: 10_000).responses.first?.errorCode == 0)
            let after = try await Self.eventually(four, within: 5) { $0.brokers.count == 1 }
            #expect(after.brokers.map(\.nodeId) == [4])
            let events = try #require(after.topics.first { $0.name == "events" })
            let orphaned = try #require(events.partitions.first { $0.replicaNodes == [5] })
            #expect(orphaned.leaderId == -1)
            #expect(orphaned.errorCode == KafkaErrorCode.leaderNotAvailable.rawValue)
            #expect(orphaned.offlineReplicas == [5])

            try await cluster.start(broker: 5)
            let back = try await Self.eventually(four, within: 5) { response in
                response.brokers.count == 2 && response.topics.first { $0.name == "events" }?.partitions.allSatisfy { $0.leaderId != -1 } == true
            }
            #expect(back.brokers.map(\.nodeId).sorted() == [4, 5])
            let left = try FileManager.default.contentsOfDirectory(atPath: fiveLogs)
            #expect(!left.contains { $0.hasPrefix("gone-") })
            #expect(left.contains(MetadataLog.directoryName))
            #expect(left.contains { $0.hasPrefix("events-") })
            await four.close()
        } catch {
            await cluster.stopAll()
            throw error
        }
        await cluster.stopAll()
    }
}
