import Foundation
import Logging
import MartletClients
import MartletProtocol
import MartletReplication
import NIOPosix
import Testing

@testable import MartletBroker

/// Three controllers in one process, each with its own listener on a free 127.0.0.1 port and its own
/// temporary metadata log directory, talking Kafka's KRaft RPCs over real sockets.
@Suite("Controller quorum", .serialized)
struct ControllerQuorumTests {
    /// Short Raft timeouts keep the test quick; the conformance test runs the defaults.
    static let timeouts = [
        "controller.quorum.election.timeout.ms": "300", "controller.quorum.fetch.timeout.ms": "600",
        "controller.quorum.request.timeout.ms": "500", "controller.quorum.election.backoff.max.ms": "300",
    ]

    static let clusterId = "martlet-controller-tests"

    /// With `activeControllers`, each node builds the metadata image and runs commands while it leads;
    /// without, it counts raw entries, for Raft-level tests that propose bytes of their own.
    final class Cluster {
        let root = "/tmp/martlet-controller-tests-\(UUID().uuidString)"
        let ports: [Int32: Int]
        let activeControllers: Bool
        /// More settings for every controller (broker session timeouts, snapshot thresholds).
        let settings: [String: String]
        var servers: [Int32: ControllerServer] = [:]
        var appliers: [Int32: CommittedEntryCounter] = [:]
        var images: [Int32: MetadataImageApplier] = [:]
        private var connections: [KafkaConnection] = []

        init(activeControllers: Bool = false, settings: [String: String] = [:]) throws {
            ports = Dictionary(uniqueKeysWithValues: try [1, 2, 3].map { (Int32($0), try Self.freePort()) })
            self.activeControllers = activeControllers
            self.settings = settings
        }

        /// `controller.quorum.voters` for these controllers.
        var voters: String { ports.keys.sorted().map { "\($0)@127.0.0.1:\(ports[$0]!)" }.joined(separator: ",") }

        static func freePort() throws -> Int {
            let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
            defer { try? channel.close().wait() }
            return channel.localAddress!.port!
        }

        func config(_ id: Int32) throws -> BrokerConfig {
            var settings: [(key: String, value: String)] = [
                ("node.id", "\(id)"), ("process.roles", "controller"), ("controller.quorum.voters", voters),
                ("controller.listener.names", "CONTROLLER"), ("listeners", "CONTROLLER://127.0.0.1:\(ports[id]!)"),
                ("log.dirs", "\(root)/node-\(id)"), ("cluster.id", ControllerQuorumTests.clusterId),
            ]
            settings += ControllerQuorumTests.timeouts.merging(self.settings) { $1 }.map { ($0.key, $0.value) }
            return try BrokerConfig(settings)
        }

        func start(_ id: Int32) async throws {
            var logger = Logger(label: "controller-\(id)")
            logger.logLevel = ProcessInfo.processInfo.environment["MARTLET_TEST_LOG"] == nil ? .warning : .info
            let config = try config(id)
            if activeControllers {
                let applier = MetadataImageApplier(logger: logger)
                images[id] = applier
                let controller = ActiveController(config: ControllerConfig(broker: config), committedImage: { applier.image })
                servers[id] = try await ControllerServer.start(config: config, applier: applier, controller: controller, logger: logger)
            } else {
                let applier = CommittedEntryCounter(logger: logger)
                appliers[id] = applier
                servers[id] = try await ControllerServer.start(config: config, applier: applier, logger: logger)
            }
        }

        func stop(_ id: Int32) async {
            await servers.removeValue(forKey: id)?.stop()
        }

        func stopAll() async {
            for connection in connections { await connection.close() }
            for id in servers.keys.sorted() { await stop(id) }
            try? FileManager.default.removeItem(atPath: root)
        }

        /// A client connection to controller `id`'s listener, closed by `stopAll`.
        func connection(_ id: Int32) -> KafkaConnection {
            let connection = KafkaConnection(host: "127.0.0.1", port: ports[id]!, clientId: "controller-test")
            connections.append(connection)
            return connection
        }

        /// Starts the three nodes, runs `body`, and stops everything whether or not it throws.
        func run(_ body: () async throws -> Void) async throws {
            do {
                for id in ports.keys.sorted() { try await start(id) }
                try await body()
            } catch {
                await stopAll()
                throw error
            }
            await stopAll()
        }

        /// The one leader the running nodes agree on, within `seconds`.
        func leader(within seconds: Double, excluding: Int32? = nil) async -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                var leaders: Set<Int32> = []
                var followers = 0
                for (id, server) in servers {
                    let status = await server.driver.status
                    if status.role == .leader { leaders.insert(id) }
                    if status.role == .follower { followers += 1 }
                }
                if leaders.count == 1, let leader = leaders.first, leader != excluding, followers == servers.count - 1 { return leader }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        /// Waits until every running node has applied `records` (in order) within `seconds`.
        func applied(_ records: [[UInt8]], within seconds: Double) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if servers.keys.allSatisfy({ appliers[$0]!.appliedRecords == records }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }
    }

    static func records(_ range: Range<Int>) -> [[UInt8]] { range.map { Array("record-\($0)".utf8) } }

    @Test("elect, commit on all three, fail over, restart from disk and catch up")
    func failoverAndRestart() async throws {
        let cluster = try Cluster()
        try await cluster.run {
            let first = try #require(await cluster.leader(within: 10))
            _ = try await cluster.servers[first]!.driver.propose(Self.records(0..<5))
            #expect(await cluster.applied(Self.records(0..<5), within: 10))

            await cluster.stop(first)
            let second = try #require(await cluster.leader(within: 10, excluding: first))
            #expect(second != first)
            _ = try await cluster.servers[second]!.driver.propose(Self.records(5..<8))
            #expect(await cluster.applied(Self.records(0..<8), within: 10))

            try await cluster.start(first)
            #expect(await cluster.applied(Self.records(0..<8), within: 10))
            let status = await cluster.servers[first]!.driver.status
            let leaderStatus = await cluster.servers[second]!.driver.status
            #expect(status.role == .follower && status.leaderId == second)
            #expect(leaderStatus.logEndOffset - status.logEndOffset <= 1)
            let quorum = try #require(await cluster.servers[second]!.driver.describeQuorum())
            #expect(quorum.voters.map(\.replicaId).sorted() == [1, 2, 3])
            let file = "\(cluster.root)/node-\(first)/__cluster_metadata-0/quorum-state"
            let (state, voters) = try QuorumStateFile.decode([UInt8](try #require(FileManager.default.contents(atPath: file))))
            #expect(voters == [1, 2, 3])
            #expect(state.leaderId == second && state.epoch == leaderStatus.epoch)
        }
    }
}
