import MartletProtocol

/// Where topic metadata lives. One node keeps it in a local file (`LocalMetadataStore`); in a cluster the
/// controller quorum's metadata log takes this role, behind the same interface.
public protocol MetadataStore: Sendable {
    func allTopics() async -> [TopicMetadata]
    func topic(named name: String) async -> TopicMetadata?
    /// Creates the topic, or fails with the Kafka error a CreateTopics answer carries.
    func createTopic(_ topic: TopicMetadata) async throws(MetadataError) -> TopicMetadata
    func deleteTopic(named name: String) async throws(MetadataError) -> TopicMetadata
    func setPartitionCount(_ count: Int32, of name: String) async throws(MetadataError) -> TopicMetadata
    func setConfigs(_ configs: [String: String], of name: String) async throws(MetadataError) -> TopicMetadata
}

/// A metadata change refused, with the Kafka error code and message the answer carries.
public struct MetadataError: Error, Sendable, CustomStringConvertible {
    public var code: KafkaErrorCode
    public var message: String

    public init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
