import Foundation
import Testing

@testable import MartletReplication

/// The deterministic simulation: thousands of seeds, each a few simulated seconds of a 3- or 5-voter
/// quorum under loss, delay, reordering, duplication, partitions, crashes, restarts and snapshots.
/// `MARTLET_SIM_SEED=<seed>` replays one seed exactly; `MARTLET_SIM_SEEDS=<n>` changes how many run.
@Suite("Raft simulation")
struct SimulationTests {
    static let durationMs: Int64 = 12_000

    static func run(seed: UInt64, trace: Bool = false) throws(SimulationFailure) -> SimulationStats {
        let cluster = SimCluster(seed: seed, voters: seed % 2 == 0 ? 3 : 5, durationMs: durationMs, trace: trace)
        try cluster.run()
        return cluster.stats
    }

    @Test("every seed keeps the invariants and heals", arguments: [0, 1] as [UInt64])
    func seeds(shard: UInt64) throws {
        let environment = ProcessInfo.processInfo.environment
        if let replay = environment["MARTLET_SIM_SEED"].flatMap(UInt64.init) {
            guard shard == 0 else { return }
            let stats = try Self.run(seed: replay, trace: environment["MARTLET_SIM_TRACE"] == "1")
            print("simulation replay of seed \(replay): \(stats)")
            return
        }
        let count = environment["MARTLET_SIM_SEEDS"].flatMap(UInt64.init) ?? 2_000
        let started = ContinuousClock.now
        var total = SimulationStats()
        var seeds = 0
        for seed in stride(from: shard, to: count, by: 2) {
            let stats: SimulationStats
            do {
                stats = try Self.run(seed: seed)
            } catch {
                Issue.record("\(error)")
                return
            }
            seeds += 1
            total.simulatedMs += stats.simulatedMs
            total.events += stats.events
            total.committed += stats.committed
            total.elections += stats.elections
            total.crashes += stats.crashes
            total.snapshotsInstalled += stats.snapshotsInstalled
            total.rejections += stats.rejections
        }
        let hours = Double(total.simulatedMs) / 3_600_000
        print(
            "simulation shard \(shard): \(seeds) seeds, \(String(format: "%.2f", hours)) simulated hours, "
                + "\(total.events) events, \(total.committed) committed entries, \(total.elections) elections, "
                + "\(total.crashes) crashes, \(total.snapshotsInstalled) snapshots installed, "
                + "\(total.rejections) rejected requests, in \(ContinuousClock.now - started)")
    }
}
