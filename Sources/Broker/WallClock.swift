import Foundation

extension Date {
    /// Wall-clock milliseconds since the epoch: Kafka's timestamps.
    static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
