import NIOCore

/// A tagged field this build does not know. Kept verbatim so that a message round-trips unchanged
/// (KIP-482: tags may be added to existing versions, and readers must skip the ones they don't know).
public struct UnknownTaggedField: Hashable, Sendable {
    public var tag: UInt32
    public var data: ByteBuffer

    @inlinable
    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}
