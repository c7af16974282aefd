/// The compression codec of a v2 record batch: bits 0–2 of the batch attributes (`CompressionType.java`).
public enum CompressionCodec: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    /// Produce v7+ / Fetch v10+ only (KIP-110).
    case zstd = 4

    /// Kafka's name for the codec, as used by the `compression.type` config.
    @inlinable
    public var name: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// The codec with Kafka name `name` ("none", "gzip", "snappy", "lz4", "zstd"), or nil.
    @inlinable
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "gzip": self = .gzip
        case "snappy": self = .snappy
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }

    public var description: String { name }
}
