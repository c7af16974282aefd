#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of fixed-size big-endian entries, memory-mapped (MAP_SHARED) like Kafka's `AbstractIndex`:
/// lookups are binary searches over memory and appending an entry is a store, with no system call.
/// Dirty pages reach the disk with the file's `fsync` (Linux keeps one page cache for both).
///
/// The file of an active segment is preallocated (`resize(to: maxIndexSize)`, sparse) so appends never
/// grow it, and trimmed to its entries when the segment is rolled or closed, so a cleanly closed index
/// is exactly `entries * entrySize` bytes, as Kafka leaves it.
///
/// Not thread-safe: owned by the partition log's executor.
final class IndexFile {
    let file: SegmentFile
    let entrySize: Int
    private var mapping: UnsafeMutableRawPointer?
    /// Bytes mapped: the file length rounded down to whole entries.
    private(set) var mappedLength: Int
    /// Entries in use, from the start of the file.
    private(set) var entries: Int

    /// Opens (creating if `create`) the index at `path`; every whole entry of an existing file counts.
    init(path: String, entrySize: Int, create: Bool) throws(LogError) {
        self.file = try SegmentFile.open(path, create: create)
        self.entrySize = entrySize
        let length = try file.size()
        self.mappedLength = 0
        self.entries = length / entrySize
        try map(length: length - length % entrySize)
    }

    deinit { unmap() }

    var path: String { file.path }
    var maxEntries: Int { mappedLength / entrySize }
    var isFull: Bool { entries >= maxEntries }

    /// Sets the file length to `length` rounded down to whole entries (never below the entries in
    /// use) and maps it again.
    func resize(to length: Int) throws(LogError) {
        let rounded = max(length - length % entrySize, entries * entrySize)
        guard rounded != mappedLength else { return }
        unmap()
        try file.truncate(to: rounded)
        try map(length: rounded)
    }

    /// Shrinks the file to the entries in use.
    func trimToValidSize() throws(LogError) { try resize(to: entries * entrySize) }

    /// Keeps the first `count` entries; the rest are zeroed so a crash cannot resurrect them.
    ///
    /// A large tail (a preallocated index opened after a crash counts all its slots as entries) is zeroed
    /// by cutting the file at `count` entries and growing it back: the tail becomes a hole again, where
    /// writing zeros through the mapping would fault in and dirty every page of it (10 MiB per index).
    func setEntries(_ count: Int) {
        precondition(count >= 0 && count <= maxEntries)
        if count < entries, let mapping {
            let tail = (entries - count) * entrySize
            if tail >= Self.holePunchThreshold, (try? file.truncate(to: count * entrySize)) != nil {
                // Growing back only extends the hole; nothing is allocated that could fail for lack of space.
                try? file.truncate(to: mappedLength)
            } else {
                (mapping + count * entrySize).initializeMemory(as: UInt8.self, repeating: 0, count: tail)
            }
        }
        entries = count
    }

    /// Tails at least this long are zeroed by truncation rather than by writing zeros.
    static let holePunchThreshold = 64 * 1024

    /// Claims the next entry and returns its bytes for the caller to fill.
    func appendEntry() -> UnsafeMutableRawPointer {
        precondition(entries < maxEntries, "index \(path) is full")
        entries += 1
        return mapping! + (entries - 1) * entrySize
    }

    @inline(__always)
    func int32(entry: Int, at field: Int) -> Int32 {
        Int32(bigEndian: mapping!.loadUnaligned(fromByteOffset: entry * entrySize + field, as: Int32.self))
    }

    @inline(__always)
    func int64(entry: Int, at field: Int) -> Int64 {
        Int64(bigEndian: mapping!.loadUnaligned(fromByteOffset: entry * entrySize + field, as: Int64.self))
    }

    /// Makes the entries durable.
    func sync() throws(LogError) { try FileIO.sync(file.descriptor, path: path) }

    /// Unmaps the file (the descriptor closes with the last `SegmentFile` reference).
    func close() { unmap() }

    private func map(length: Int) throws(LogError) {
        mappedLength = length
        guard length > 0 else { return }
        let pointer = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, file.descriptor, 0)
        guard let pointer, pointer != UnsafeMutableRawPointer(bitPattern: -1) else {
            mappedLength = 0
            throw FileIO.fail("mmap", path)
        }
        mapping = pointer
    }

    private func unmap() {
        if let mapping { munmap(mapping, mappedLength) }
        mapping = nil
        mappedLength = 0
    }
}

extension UnsafeMutableRawPointer {
    @inline(__always)
    func storeBigEndian(_ value: Int32, at offset: Int) { storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int32.self) }
    @inline(__always)
    func storeBigEndian(_ value: Int64, at offset: Int) { storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int64.self) }
}
