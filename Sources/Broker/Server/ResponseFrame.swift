import NIOCore

/// One response as written to the socket: bytes, and for Fetch, file regions sent with sendfile between
/// them. `keepAlive` holds whatever the regions read from (log segments) until the write has completed;
/// the regions' borrowed descriptors are then given back.
public struct ResponseFrame: Sendable {
    public var parts: [IOData]
    public var keepAlive: [LogReadResult]

    public init(_ bytes: ByteBuffer) {
        parts = [.byteBuffer(bytes)]
        keepAlive = []
    }

    init(parts: [IOData], keepAlive: [LogReadResult]) {
        self.parts = parts
        self.keepAlive = keepAlive
    }

    /// Gives back the descriptors the file regions borrowed; call once their write has finished or failed.
    func release() {
        for part in parts {
            if case .fileRegion(let region) = part { LogReadResult.Slice.endBorrow(of: region) }
        }
    }
}
