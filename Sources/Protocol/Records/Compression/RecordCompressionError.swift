/// Why a records area could not be compressed or decompressed.
public struct RecordCompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The input is not a valid stream of the codec; carries the library's reason.
        case corruptInput(String)
        /// The input ends in the middle of a stream.
        case truncatedInput
        /// Decompressing would produce more than the allowed number of bytes (a decompression bomb, or a
        /// batch larger than the configured limit).
        case exceedsMaximumSize(Int)
        /// The input is larger than the codec's API can take in one call.
        case inputTooLarge(Int)
        /// The library failed for a reason unrelated to the input (allocation, initialisation).
        case libraryFailure(String)
    }

    public var codec: CompressionCodec
    public var kind: Kind

    @inlinable
    public init(_ kind: Kind, codec: CompressionCodec) {
        self.kind = kind
        self.codec = codec
    }

    public var description: String {
        switch kind {
        case .corruptInput(let reason): "\(codec.name): corrupt compressed data (\(reason))"
        case .truncatedInput: "\(codec.name): compressed data ends in the middle of a stream"
        case .exceedsMaximumSize(let maximum): "\(codec.name): decompressed data exceeds the maximum of \(maximum) bytes"
        case .inputTooLarge(let size): "\(codec.name): input of \(size) bytes is too large to compress in one call"
        case .libraryFailure(let reason): "\(codec.name): library failure (\(reason))"
        }
    }
}
