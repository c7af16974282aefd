import NIOCore

/// A generated struct (a message or one of its nested structs): readable and writable at any version of
/// the message it belongs to.
public protocol KafkaStruct: Hashable, Sendable {
    /// The value with every field at its default.
    init()
    /// Reads the struct as written at `version`.
    init(from buffer: inout ByteBuffer, version: Int16) throws(KafkaWireError)
    /// Writes the struct at `version`. Fields the version lacks are left out.
    func encode(into buffer: inout ByteBuffer, version: Int16) throws(KafkaWireError)
    /// The exact number of bytes `encode` writes at `version`.
    func size(version: Int16) -> Int
}

/// A top-level generated message: a request, response, header or record, with the versions its spec defines.
public protocol KafkaMessage: KafkaStruct {
    /// The versions the spec defines.
    static var validVersions: ClosedRange<Int16> { get }
    /// The first flexible version (compact encodings, tagged fields), or nil if none is flexible.
    static var firstFlexibleVersion: Int16? { get }
}

extension KafkaMessage {
    @inlinable
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let first = firstFlexibleVersion else { return false }
        return version >= first
    }

    /// Encodes into a new buffer of exactly the right size.
    public func encoded(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaWireError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: size(version: version))
        try encode(into: &buffer, version: version)
        return buffer
    }
}

/// A request or response body: one API key, one version range.
public protocol KafkaApiMessage: KafkaMessage {
    static var apiKey: ApiKey { get }
}

public protocol KafkaRequest: KafkaApiMessage {
    associatedtype Response: KafkaResponse
}

public protocol KafkaResponse: KafkaApiMessage {}

/// A KRaft metadata-log record (`metadata/*.json`); `recordType` is its `apiKey` in the spec.
public protocol KafkaMetadataRecord: KafkaMessage {
    static var recordType: Int16 { get }
}
