import MartletProtocol

/// A Kafka error code with its message, as a command's validation yields it for one resource.
struct ApiError: Error, Hashable, Sendable {
    var code: KafkaErrorCode
    var message: String?

    init(_ code: KafkaErrorCode, _ message: String? = nil) {
        self.code = code
        self.message = message
    }
}
