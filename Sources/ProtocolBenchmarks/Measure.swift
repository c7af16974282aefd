/// A small benchmark harness: best-of-rounds timing, so a noisy shared machine perturbs results less, and
/// every figure is printed next to a baseline measured in the same process (a ratio survives noise better
/// than an absolute number).
struct Measurement {
    var name: String
    /// Bytes processed per iteration, for throughput.
    var bytes: Int
    /// Best seconds per iteration over the rounds.
    var seconds: Double

    var bytesPerSecond: Double { Double(bytes) / seconds }
}

enum Measure {
    /// Runs `body` repeatedly: each round runs at least `minimumRoundSeconds`, the best round's time per
    /// iteration is kept. Bounded: at most `rounds` rounds of at most 1,000,000 iterations each.
    static func run(
        _ name: String, bytes: Int, rounds: Int = 5, minimumRoundSeconds: Double = 0.2, _ body: () throws -> Void
    ) rethrows -> Measurement {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            var iterations = 0
            let start = clock.now
            var elapsed = 0.0
            repeat {
                try body()
                iterations += 1
                elapsed = (clock.now - start).seconds
            } while elapsed < minimumRoundSeconds && iterations < 1_000_000
            best = min(best, elapsed / Double(iterations))
        }
        return Measurement(name: name, bytes: bytes, seconds: best)
    }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

/// A fixed-width table: name, throughput, and the ratio to the row's baseline.
struct ResultTable {
    private var rows: [(String, String, String, String)] = []

    mutating func add(_ measurement: Measurement, baseline: Measurement?, note: String = "") {
        let throughput = String(format: "%9.1f MB/s", measurement.bytesPerSecond / 1e6)
        let ratio = baseline.map { String(format: "%7.3fx %@", measurement.bytesPerSecond / $0.bytesPerSecond, $0.name) } ?? "baseline"
        rows.append((measurement.name, throughput, ratio, note))
    }

    func print() {
        let width = rows.map(\.0.count).max() ?? 10
        for (name, throughput, ratio, note) in rows {
            Swift.print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + throughput + "  " + ratio
                + (note.isEmpty ? "" : "  " + note))
        }
    }
}

import Foundation
