/// Why bytes could not be read as (or written to) the Kafka wire format.
///
/// Every decoding failure names the field it happened in (`ProduceRequest.TopicData.Name`), so a bad frame
/// from a client can be logged and answered precisely instead of crashing the connection.
public struct KafkaWireError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// Fewer bytes remained than the field needs.
        case truncated(needed: Int, available: Int)
        /// A length or count prefix was negative (and not the null marker where null is allowed).
        case negativeLength(Int64)
        /// A length or count prefix claims more than the frame holds.
        case lengthExceedsFrame(claimed: Int64, available: Int)
        /// A varint ran past 5 (varint) or 10 (varlong) bytes.
        case varintOverflow
        /// A string was not valid UTF-8.
        case invalidUTF8
        /// A null where the version does not allow null.
        case unexpectedNull
        /// Tagged fields out of order, duplicated, or a known tag whose body does not parse exactly.
        case invalidTaggedField(tag: UInt32)
        /// The API key is not one this build knows.
        case unknownApiKey(Int16)
        /// The version is outside the message's valid versions.
        case unsupportedVersion(apiKey: Int16, version: Int16)
        /// A value cannot be written in the requested version (too long for the length prefix, say).
        case unencodable(String)
        /// Bytes were left over after the message ended.
        case trailingBytes(Int)
        /// A frame-level violation: a size prefix that is negative or over the configured maximum.
        case invalidFrameSize(Int64, maximum: Int)
    }

    public var kind: Kind
    /// The dotted path of the field, e.g. `ProduceRequest.TopicData.PartitionData.Records`.
    public var field: String

    @inlinable
    public init(_ kind: Kind, field: StaticString) {
        self.kind = kind
        self.field = field.description
    }

    public init(_ kind: Kind, fieldName: String) {
        self.kind = kind
        self.field = fieldName
    }

    public var description: String { "\(field): \(kind)" }
}
