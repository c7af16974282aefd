import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file of a segment (its `.log`, `.index` or `.timeindex`), shared by the log and by the reads
/// it hands out; the descriptor is closed when the last reference goes.
///
/// Reference counting is what lets a segment be deleted (retention, truncation) while a fetch response
/// still sends from it on another event loop: the log unlinks the file and drops its reference, and the
/// kernel keeps the data until the in-flight `LogReadResult` is released. Kafka needs
/// `file.delete.delay.ms` for the same purpose.
///
/// Immutable and only used with positional I/O, hence `Sendable`.
public final class SegmentFile: Sendable {
    /// The open descriptor (read-write). Use it only for positional reads (`pread`, `sendfile` with an
    /// offset): its file position is shared.
    public let descriptor: CInt
    /// The path the file was opened at (it may since have been renamed to `.deleted` and removed).
    public let path: String

    init(descriptor: CInt, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    static func open(_ path: String, create: Bool, truncate: Bool = false) throws(LogError) -> SegmentFile {
        SegmentFile(descriptor: try FileIO.open(path, create: create, truncate: truncate), path: path)
    }

    deinit { posixClose(descriptor) }

    /// A `NIOFileHandle` over this file's descriptor for a `FileRegion`, *borrowing* it: the handle
    /// must give the descriptor back with `takeDescriptorOwnership()` (not `close()`) once the write
    /// completed, and this `SegmentFile` must stay alive until then. `LogReadResult.Slice` wraps this.
    public func borrowFileHandle() -> NIOFileHandle {
        NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(LogError) -> Int {
        try FileIO.pread(descriptor, into: buffer, at: offset, path: path)
    }

    func size() throws(LogError) -> Int { try FileIO.size(descriptor, path: path) }

    func truncate(to size: Int) throws(LogError) { try FileIO.truncate(descriptor, to: size, path: path) }

    func syncData() throws(LogError) { try FileIO.syncData(descriptor, path: path) }
}
