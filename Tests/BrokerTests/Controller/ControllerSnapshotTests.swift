import Foundation
import MartletClients
import MartletProtocol
import MartletReplication
import Testing

@testable import MartletBroker

/// Metadata snapshots between real controllers: taken once enough has committed, the log prefix deleted
/// under them, and a controller that was down while that happened brought back by FetchSnapshot.
@Suite("Controller snapshots", .serialized)
struct ControllerSnapshotTests {
    typealias Cluster = ControllerQuorumTests.Cluster

    /// A CreateTopics of 6 partitions writes about 400 bytes, so a few topics cross it.
    static let snapshotBytes = 2048

    /// Waits until `condition` holds, within `seconds`.
    static func eventually(within seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Whether every running controller holds the same committed metadata: equal snapshot records, which
    /// leave out the offsets a snapshot cannot carry, and, with `sameOffset`, the same last applied offset
    /// (a node that installed a snapshot counts its end as applied until a record comes after it).
    static func imagesAgree(_ cluster: Cluster, sameOffset: Bool) -> Bool {
        let images = cluster.servers.keys.map { cluster.images[$0]!.image }
        return images.allSatisfy {
            $0.snapshotRecords == images[0].snapshotRecords && (!sameOffset || $0.lastAppliedOffset == images[0].lastAppliedOffset)
        }
    }

    static func checkpoints(_ cluster: Cluster, _ id: Int32) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/node-\(id)/\(MetadataLog.directoryName)")
            .filter { $0.hasSuffix(SnapshotFiles.suffix) }.sorted()
    }

    @Test("a controller restarted behind the leader's log start installs its snapshot, then restarts from it")
    func catchUpBySnapshot() async throws {
        // The brokers heartbeat once; a long session keeps them from being fenced, which would write
        // more records and snapshots while the test compares them.
        let cluster = try Cluster(activeControllers: true, settings: [
            "metadata.log.max.record.bytes.between.snapshots": "\(Self.snapshotBytes)", "broker.session.timeout.ms": "600000",
        ])
        try await cluster.run {
            let leader = try #require(await ActiveControllerTests.activeController(cluster, within: 10))
            let connection = cluster.connection(leader)
            try await ActiveControllerTests.registerBrokers(connection)
            let behind = try #require(cluster.ports.keys.sorted().first { $0 != leader })
            let leftAt = await cluster.servers[behind]!.driver.status.logEndOffset
            await cluster.stop(behind)

            for index in 0..<12 {
                #expect(try await ActiveControllerTests.createTopic("topic-\(index)", on: connection).errorCode == 0)
            }
            let leaderDriver = cluster.servers[leader]!.driver
            #expect(await Self.eventually(within: 10) { await leaderDriver.logStartOffset > leftAt })
            let leaderStart = await leaderDriver.logStartOffset
            let leaderSnapshot = try #require(await leaderDriver.latestSnapshotId)
            #expect(leaderSnapshot.offset == leaderStart)
            #expect(try Self.checkpoints(cluster, leader) == [SnapshotFiles.fileName(leaderSnapshot)])

            let restarted = Date()
            try await cluster.start(behind)
            let behindDriver = cluster.servers[behind]!.driver
            #expect(await Self.eventually(within: 10) { await behindDriver.logStartOffset >= leaderStart })
            #expect(await Self.eventually(within: 10) {
                let (mine, theirs) = (await behindDriver.status, await leaderDriver.status)
                return mine.highWatermark == theirs.highWatermark && Self.imagesAgree(cluster, sameOffset: false)
            })
            print("snapshot catch-up: \(String(format: "%.0f", Date().timeIntervalSince(restarted) * 1000)) ms, snapshot \(leaderSnapshot)")
            #expect(try !Self.checkpoints(cluster, behind).isEmpty)
            #expect(cluster.images[behind]!.image.topicIdsByName.count == 12)

            // Entries after the installed snapshot still apply, and a restart loads that snapshot and its
            // log, which now starts at the snapshot's end.
            #expect(try await ActiveControllerTests.createTopic("after", on: connection).errorCode == 0)
            await cluster.stop(behind)
            try await cluster.start(behind)
            #expect(await Self.eventually(within: 10) { Self.imagesAgree(cluster, sameOffset: true) })
            #expect(cluster.images[behind]!.image.topic(named: "after") != nil)
        }
    }
}
