#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The time source of a partition log: wall-clock milliseconds (segment ages, retention, flush timers)
/// and a monotonic clock (how long recovery took). Tests pass a manual clock.
///
/// Hot-path calls (`appendAsLeader`, `needsFlush`, `applyRetention`) take `now` as an argument instead, so
/// a caller reads the clock once per request and the log never does.
public protocol LogClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func milliseconds() -> Int64
    /// Nanoseconds from an arbitrary, monotonic origin.
    func monotonicNanoseconds() -> UInt64
}

/// `clock_gettime(CLOCK_REALTIME)` and `CLOCK_MONOTONIC`.
public struct SystemLogClock: LogClock {
    public init() {}

    public func milliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    public func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
