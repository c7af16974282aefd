import MartletProtocol

/// A request refused for a reason the client is told: the Kafka error code its answer carries and a
/// message for the versions whose answers have one (and for the logs). Metadata changes, partition
/// appends and reads all fail this way.
public struct BrokerError: Error, Sendable, CustomStringConvertible {
    public var code: KafkaErrorCode
    public var message: String

    public init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
