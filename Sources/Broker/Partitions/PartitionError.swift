import MartletProtocol

/// A per-partition failure with the Kafka error code the answer carries and a message for the logs and for
/// the versions whose responses carry one.
public struct PartitionError: Error, Sendable, CustomStringConvertible {
    public var code: KafkaErrorCode
    public var message: String

    public init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
