import NIOCore

/// What `appendAsLeader` and `appendAsFollower` wrote.
public struct AppendResult: Hashable, Sendable {
    /// Offset of the first record written (the first batch's base offset).
    public var firstOffset: Int64
    /// Offset of the last record written.
    public var lastOffset: Int64
    /// For LogAppendTime batches the broker timestamp they carry, else -1 (ProduceResponse
    /// `LogAppendTimeMs`).
    public var logAppendTime: Int64
    /// The largest batch max timestamp written (-1 if none).
    public var maxTimestamp: Int64
    /// The last offset of the (first) batch carrying `maxTimestamp`, Kafka's "shallow" offset.
    public var offsetOfMaxTimestamp: Int64
    /// Bytes written.
    public var bytes: Int
    /// Batches written.
    public var batches: Int
    /// Whether the append started a new segment.
    public var rolled: Bool
}

/// A record offset with its timestamp and the leader epoch of its batch (ListOffsets).
public struct TimestampAndOffset: Hashable, Sendable {
    public var timestamp: Int64
    public var offset: Int64
    /// The partition leader epoch of the batch holding the record; nil if it has none (-1).
    public var leaderEpoch: Int32?
}

/// What `read` found: whole batches, as slices of segment files, ready for `sendfile`.
///
/// The slices keep their `SegmentFile`s open, so the data stays readable even if the log deletes or
/// rolls the segments meanwhile: keep the result alive until the bytes are sent.
public struct LogReadResult: Sendable {
    /// A byte range of one segment file.
    public struct Slice: Sendable {
        public let file: SegmentFile
        public let position: Int64
        public let length: Int

        /// A `FileRegion` for `channel.write(NIOAny(IOData.fileRegion(...)))`. Its `NIOFileHandle`
        /// *borrows* the segment's descriptor: once the write's future completes (success or failure),
        /// call `LogReadResult.Slice.endBorrow(of:)` on the region, and keep this slice (or its
        /// `LogReadResult`) alive until then. Never `close()` the region's handle.
        public func borrowedFileRegion() -> FileRegion {
            FileRegion(fileHandle: file.borrowFileHandle(), readerIndex: Int(position), endIndex: Int(position) + length)
        }

        /// Gives the descriptor back from a region made by `borrowedFileRegion()`, without closing it.
        public static func endBorrow(of region: FileRegion) {
            _ = try? region.fileHandle.takeDescriptorOwnership()
        }
    }

    /// The data, in log order; their bytes, concatenated, are whole v2 batches.
    public var slices: [Slice]
    /// Total bytes of the slices.
    public var size: Int
    /// Base offset of the first batch returned (it may be below the requested offset: the whole batch
    /// that contains it is returned and clients skip the earlier records); nil if empty.
    public var firstBatchBaseOffset: Int64?
    /// The offset after the last batch returned: where the next read continues. The requested offset
    /// when nothing was returned.
    public var nextOffset: Int64
    /// The log's start and end offsets at the time of the read.
    public var logStartOffset: Int64
    public var logEndOffset: Int64

    public var isEmpty: Bool { size == 0 }

    /// The same bytes, read into one buffer (tests, format conversion, coordinators loading a log).
    public func readBytes(allocator: ByteBufferAllocator = .init()) throws(LogError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: size)
        for slice in slices {
            let length = slice.length
            var failure: LogError?
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { bytes in
                do throws(LogError) {
                    return try slice.file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<length]), at: slice.position)
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            guard read == length else { throw LogError.io(operation: "pread (short read)", path: slice.file.path, errno: 0) }
        }
        return buffer
    }
}

/// What loading a partition log did.
public struct RecoveryReport: Hashable, Sendable {
    /// Whether the log was opened after a clean shutdown (no scan, only index checks).
    public var hadCleanShutdown = false
    /// The recovery point the scan started from (segments from the one holding it were scanned).
    public var recoveryPoint: Int64 = 0
    public var segmentsLoaded = 0
    /// Segments whose batches were validated (CRC and sizes) and indexes rebuilt.
    public var segmentsRecovered = 0
    /// Segments whose indexes were missing or inconsistent (rebuilt by a scan).
    public var indexesRebuilt = 0
    public var batchesScanned = 0
    public var bytesScanned: Int64 = 0
    /// Bytes cut from a torn or corrupt tail, including whole later segments.
    public var bytesTruncated: Int64 = 0
    /// Segments deleted because they followed a corrupt batch (or lay below the log start offset).
    public var segmentsDeleted = 0
    /// Leftover `.deleted`, `.cleaned`, `.swap`, `.tmp` and orphan index files removed.
    public var strayFilesRemoved: [String] = []
    /// Interrupted segment replacements of the log cleaner completed (`.log.swap` files installed).
    public var swapsCompleted = 0
    /// Why the scan stopped early, if it did (the first invalid batch).
    public var corruption: String?
    public var durationNanoseconds: UInt64 = 0

    public init() {}
}

/// What `applyRetention` or `deleteRecords` removed.
public struct DeletedSegments: Hashable, Sendable {
    /// Base offsets of the deleted segments, oldest first.
    public var baseOffsets: [Int64] = []
    public var bytes: Int64 = 0
    /// The log start offset afterwards.
    public var logStartOffset: Int64 = 0
    /// Segments deleted by `log.retention.ms`, by `log.retention.bytes`, and for lying below the log
    /// start offset (DeleteRecords).
    public var byTime = 0
    public var bySize = 0
    public var byLogStartOffset = 0

    public init() {}
}
