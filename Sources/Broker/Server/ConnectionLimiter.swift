import Synchronization

/// Counts open connections against `max.connections`, so a flood of sockets cannot exhaust the broker.
final class ConnectionLimiter: Sendable {
    private let open = Atomic<Int>(0)
    let maximum: Int

    init(maximum: Int) { self.maximum = maximum }

    /// Takes a slot, or returns false when the limit is reached.
    func acquire() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < maximum {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() { open.subtract(1, ordering: .acquiringAndReleasing) }

    var count: Int { open.load(ordering: .relaxed) }
}
