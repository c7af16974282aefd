/// A reusable byte buffer for reading batch headers out of segment files, allocated once per log so
/// that lookups allocate nothing. Not thread-safe (owned by the log's executor).
final class ScratchBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        bytes = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { bytes.deallocate() }
}
