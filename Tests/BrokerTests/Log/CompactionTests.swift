import Foundation
import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

/// A record as read back from a log.
struct ReadRecord: Equatable {
    var offset: Int64
    var timestamp: Int64
    var key: String?
    var value: String?
}

/// Updates of keyed records, appended to a compacted log, with what a compacted read must give.
struct KeyedWorkload {
    let keys: Int
    var codec: CompressionCodec = .none
    var recordsPerBatch = 20
    var producerId: Int64 = -1
    /// Per key, the offset and value of its latest update (nil value: a tombstone).
    var latest: [String: (offset: Int64, value: String?)] = [:]
    var updates = 0
    /// A deterministic key order.
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    var sequence: Int32 = 0
    /// Key names are `<prefix><index>`.
    var prefix: String

    init(keys: Int, codec: CompressionCodec = .none, prefix: String = "key-") {
        self.keys = keys
        self.codec = codec
        self.prefix = prefix
    }

    func key(_ index: Int) -> String { prefix + String(index) }

    mutating func nextKey() -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(keys))
    }

    /// Appends `count` updates (in batches) at `timestamp`; every key gets at least one update per
    /// `keys` updates when `cover` (the first `keys` updates go to keys 0, 1, 2, ...).
    mutating func append(
        _ count: Int, to log: PartitionLog, timestamp: Int64 = LogTest.t0, tombstoneEvery: Int? = nil, cover: Bool = true
    ) throws {
        var remaining = count
        var encoder = FastBatchEncoder()
        while remaining > 0 {
            let size = min(recordsPerBatch, remaining)
            var planned: [(key: String, value: String?)] = []
            planned.reserveCapacity(size)
            for _ in 0..<size {
                let index = cover && updates < keys ? updates : nextKey()
                let tombstone = tombstoneEvery.map { updates % $0 == $0 - 1 } ?? false
                let value: String? = tombstone ? nil : "value-\(index)-\(updates)-xxxxxxxx"
                planned.append((key(index), value))
                encoder.append(timestampDelta: Int64(updates % 1000), key: planned.last!.key, value: value)
                updates += 1
            }
            let batch = try encoder.finish(
                baseTimestamp: timestamp, codec: codec, producerId: producerId, producerEpoch: producerId >= 0 ? 0 : -1,
                baseSequence: producerId >= 0 ? sequence : -1)
            let result = try log.appendAsLeader(batch, leaderEpoch: 0, now: timestamp)
            for (index, record) in planned.enumerated() { latest[record.key] = (result.firstOffset + Int64(index), record.value) }
            sequence += Int32(size)
            remaining -= size
        }
    }

    /// The values a compacted read must end with, per key (tombstoned keys: absent or nil).
    var latestValues: [String: String?] { latest.mapValues(\.value) }
}

enum CompactionTest {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 24 * hour

    static func config(segmentBytes: Int = 4096, deleteRetentionMs: Int64 = day) -> LogConfig {
        var config = LogTest.config(segmentBytes: segmentBytes, indexIntervalBytes: 256)
        config.cleanupPolicy = "compact"
        config.deleteRetentionMs = deleteRetentionMs
        return config
    }

    /// Every record from the log start, decoded.
    static func records(_ log: PartitionLog, from offset: Int64? = nil) throws -> [ReadRecord] {
        var records: [ReadRecord] = []
        for batch in RecordBatchSequence(try LogTest.readAll(log, from: offset)) {
            let decoded = try RecordBatch.decode(batch, maximumUncompressedSize: 1 << 24)
            for record in decoded.records {
                records.append(ReadRecord(
                    offset: decoded.offset(of: record), timestamp: decoded.timestamp(of: record),
                    key: record.key.map { String(buffer: $0) }, value: record.value.map { String(buffer: $0) }))
            }
        }
        return records
    }

    /// Checks what every compacted read must satisfy: offsets strictly increase, and replaying the
    /// records gives the latest value of every key.
    static func expectCompacted(_ log: PartitionLog, _ workload: KeyedWorkload, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let records = try records(log)
        let offsets = records.map(\.offset)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 < $1 }, "offsets must strictly increase", sourceLocation: sourceLocation)
        var replayed: [String: String?] = [:]
        for record in records { replayed[record.key!] = record.value }
        for (key, latest) in workload.latest {
            if let value = latest.value {
                #expect(replayed[key] == .some(value), "latest value of \(key)", sourceLocation: sourceLocation)
                #expect(records.last { $0.key == key }?.offset == latest.offset, "offset of \(key)", sourceLocation: sourceLocation)
            } else {
                #expect(replayed[key] == nil || replayed[key]! == nil, "\(key) was deleted", sourceLocation: sourceLocation)
            }
        }
        let unexpected = Set(replayed.keys.filter { $0.hasPrefix(workload.prefix) }).subtracting(workload.latest.keys)
        #expect(unexpected.isEmpty, "keys never written: \(unexpected)", sourceLocation: sourceLocation)
    }

    /// Records below the active segment: each key at most once.
    static func cleanedPartHasUniqueKeys(_ log: PartitionLog) throws -> Bool {
        let cleaned = try records(log).filter { $0.offset < log.activeSegmentBaseOffset }
        return Set(cleaned.map(\.key)).count == cleaned.count
    }

    /// Checks the indexes of every segment against its batches: each offset index entry gives the
    /// position of a batch ending at its offset, each time index entry a batch's last offset whose
    /// segment's max timestamp so far is the entry's; and a read from every record offset finds it.
    static func expectIndexesMatch(_ log: PartitionLog, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for segment in log.segments {
            var batches: [BatchInfo] = []
            _ = try segment.forEachBatch(from: 0, scratch: log.scratch) { batches.append($0); return true }
            let byPosition = Dictionary(uniqueKeysWithValues: batches.map { ($0.position, $0) })
            for entry in 0..<segment.offsetIndex.entries {
                let (offset, position) = segment.offsetIndex.entry(entry)
                #expect(byPosition[position]?.lastOffset == offset, "offset index entry \(entry) of \(segment.baseOffset)", sourceLocation: sourceLocation)
            }
            var maxTimestamp: [Int64: Int64] = [:]
            var running: Int64 = -1
            for batch in batches {
                running = max(running, batch.maxTimestamp)
                maxTimestamp[batch.lastOffset] = running
            }
            for entry in 0..<segment.timeIndex.entries {
                let (timestamp, offset) = segment.timeIndex.entry(entry)
                #expect(maxTimestamp[offset] == timestamp, "time index entry \(entry) of \(segment.baseOffset)", sourceLocation: sourceLocation)
            }
            if segment !== log.segments.last { #expect(segment.maxTimestampSoFar == running, sourceLocation: sourceLocation) }
        }
        for record in try records(log) {
            let read = try log.read(from: record.offset, maxBytes: 1)
            let header = try #require(try LogTest.headers(try read.readBytes()).first, sourceLocation: sourceLocation)
            #expect(header.baseOffset <= record.offset && record.offset <= header.lastOffset, sourceLocation: sourceLocation)
        }
    }

    static func headers(_ log: PartitionLog) throws -> [RecordBatchHeader] {
        try LogTest.headers(try LogTest.readAll(log))
    }
}

@Suite("Log compaction (cleanup.policy=compact)")
struct CompactionTests {
    @Test("20,000 updates over 200 keys clean down to one record per key, offsets kept", arguments: CompressionCodec.allCases)
    func compactsManyUpdates(codec: CompressionCodec) throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: CompactionTest.config(segmentBytes: codec == .none ? 32 * 1024 : 12 * 1024))
        var workload = KeyedWorkload(keys: 200, codec: codec)
        try workload.append(20_000, to: log)
        let segmentsBefore = log.segmentBaseOffsets.count
        #expect(segmentsBefore > 10)
        let endOffset = log.logEndOffset
        let activeBase = log.activeSegmentBaseOffset
        let activeRecords = try CompactionTest.records(log, from: activeBase).count
        #expect(log.needsCleaning(now: LogTest.t0))
        #expect(log.dirtyRatio == 1)

        let result = try log.clean(now: LogTest.t0)
        #expect(result.complete && result.keys == 200)
        #expect(result.cleanedUpTo == activeBase && log.cleanerCheckpoint == activeBase)
        #expect(result.recordsRead == 20_000 - activeRecords)
        #expect(log.logEndOffset == endOffset && log.activeSegmentBaseOffset == activeBase)
        #expect(log.segmentBaseOffsets.first == 0)

        let records = try CompactionTest.records(log)
        #expect(records.count <= 200 + activeRecords)
        // Below the active segment (never cleaned) exactly one record per key is left.
        #expect(records.filter { $0.offset < activeBase }.count == 200)
        #expect(try CompactionTest.cleanedPartHasUniqueKeys(log))
        try CompactionTest.expectCompacted(log, workload)
        try CompactionTest.expectIndexesMatch(log)
        // Every rewritten batch kept its codec.
        #expect(try CompactionTest.headers(log).allSatisfy { $0.attributes.compression == codec })
        #expect(!log.needsCleaning(now: LogTest.t0) && log.dirtyRatio == 0)
        #expect(log.size == Int64(directory.names().filter { $0.hasSuffix(".log") }.map { directory.size($0) }.reduce(0, +)))
        #expect(!directory.names().contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })

        // Appends continue at the log end offset; another round of updates cleans again.
        let next = try log.appendAsLeader(LogTest.batch(records: 2), leaderEpoch: 0, now: LogTest.t0)
        #expect(next.firstOffset == endOffset)
        workload.latest["k0"] = (endOffset, "v0-0" + String(repeating: ".", count: 16))
        workload.latest["k1"] = (endOffset + 1, "v0-1" + String(repeating: ".", count: 16))
        try workload.append(2_000, to: log, cover: false)
        try log.clean(now: LogTest.t0)
        #expect(try CompactionTest.cleanedPartHasUniqueKeys(log))
        try CompactionTest.expectCompacted(log, workload)
        // The second pass merged the small cleaned segments, as Kafka groups them up to segment.bytes.
        #expect(log.segmentBaseOffsets.count < segmentsBefore / 4)
    }

    @Test("reopening a cleaned log, cleanly or after a crash, reads the same; the checkpoint file round-trips")
    func reopenAfterCleaning() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let config = CompactionTest.config()
        var log = try LogTest.open(directory, config: config)
        var workload = KeyedWorkload(keys: 50, codec: .lz4)
        try workload.append(3_000, to: log)
        let result = try log.clean(now: LogTest.t0)
        let before = try LogTest.readAll(log)
        let segments = log.segmentBaseOffsets
        let checkpoint = OffsetCheckpointFile(logDirectory: directory.path, name: OffsetCheckpointFile.cleanerOffsetFileName)
        try checkpoint.write([TopicPartition(LogTest.topic, 0): try #require(log.cleanerCheckpoint)])
        #expect(FileManager.default.fileExists(atPath: directory.path + "/cleaner-offset-checkpoint"))
        try log.close()

        for clean in [true, false] {
            log = try LogTest.open(directory, config: config, recoveryPoint: clean ? log.logEndOffset : 0, clean: clean)
            log.cleanerCheckpoint = try checkpoint.read()[TopicPartition(LogTest.topic, 0)]
            #expect(log.cleanerCheckpoint == result.cleanedUpTo)
            #expect(try LogTest.readAll(log) == before)
            try CompactionTest.expectIndexesMatch(log)
            #expect(log.segmentBaseOffsets == segments)
            #expect(log.recoveryReport.corruption == nil && log.recoveryReport.bytesTruncated == 0)
            #expect(!log.needsCleaning(now: LogTest.t0))
            // Nothing dirty: another pass changes nothing.
            let again = try log.clean(now: LogTest.t0)
            #expect(again.segmentsWritten == 0 && again.cleanedUpTo == result.cleanedUpTo)
            #expect(try LogTest.readAll(log) == before)
            try CompactionTest.expectCompacted(log, workload)
            try log.close()
        }
    }

    @Test("tombstones stay until delete.retention.ms after their batch was first cleaned, then go")
    func tombstonesExpireAfterDeleteRetention() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let retention = CompactionTest.hour
        let log = try LogTest.open(directory, config: CompactionTest.config(deleteRetentionMs: retention))
        var workload = KeyedWorkload(keys: 40)
        try workload.append(400, to: log)
        // Delete every 4th key, then move the tombstones out of the active segment.
        let deleted = stride(from: 0, to: 40, by: 4).map { workload.key($0) }
        var builder = RecordBatchBuilder()
        for key in deleted { builder.append(timestamp: LogTest.t0 + 5_000, key: ByteBuffer(string: key), value: nil) }
        let tombstones = try log.appendAsLeader(try builder.finish(), leaderEpoch: 0, now: LogTest.t0)
        for (index, key) in deleted.enumerated() { workload.latest[key] = (tombstones.firstOffset + Int64(index), nil) }
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        #expect(log.activeSegmentBaseOffset > tombstones.lastOffset)

        let cleanedAt = LogTest.t0 + 10 * CompactionTest.hour
        try log.clean(now: cleanedAt)
        func tombstoneRecords() throws -> [ReadRecord] {
            try CompactionTest.records(log).filter { $0.value == nil }
        }
        // Kept, with the delete horizon in the batch (KIP-534), record timestamps unchanged.
        #expect(try tombstoneRecords().map(\.key) == deleted)
        #expect(try tombstoneRecords().allSatisfy { $0.timestamp == LogTest.t0 + 5_000 })
        let header = try #require(try CompactionTest.headers(log).first { $0.baseOffset == tombstones.firstOffset })
        #expect(header.attributes.hasDeleteHorizonMs && header.baseTimestamp == cleanedAt + retention)
        #expect(header.maxTimestamp == LogTest.t0 + 5_000)
        // Deleted keys have no older values left.
        let live = try CompactionTest.records(log).filter { $0.value != nil }.compactMap(\.key)
        #expect(Set(live).isDisjoint(with: deleted))

        #expect(!log.needsCleaning(now: cleanedAt + retention - 1))
        try log.clean(now: cleanedAt + retention - 1)
        #expect(try tombstoneRecords().count == deleted.count)
        #expect(log.needsCleaning(now: cleanedAt + retention))
        let purge = try log.clean(now: cleanedAt + retention)
        #expect(purge.tombstonesRemoved == deleted.count)
        #expect(try tombstoneRecords().isEmpty)
        try CompactionTest.expectCompacted(log, workload)
        #expect(!log.needsCleaning(now: cleanedAt + retention + 1))
    }

    @Test("a producer's last batch stays as an empty batch with its offsets and sequences; its older batches go")
    func emptyBatchKeepsProducerState() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: CompactionTest.config())
        var producer = KeyedWorkload(keys: 10, codec: .zstd)
        producer.producerId = 7000
        producer.recordsPerBatch = 5
        try producer.append(20, to: log)  // 4 batches of producer 7000, keys 0-9 twice
        let producerBatches = try CompactionTest.headers(log)
        // Another producer overwrites every key, and more data rolls the segments.
        var other = KeyedWorkload(keys: 10)
        other.producerId = 8000
        try other.append(200, to: log)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)

        for (round, options) in [CleaningOptions(), CleaningOptions(producerLastOffsets: try log.lastOffsetsByProducer())].enumerated() {
            #expect(try log.lastOffsetsByProducer()[7000] == producerBatches.last!.lastOffset)
            let result = try log.clean(now: LogTest.t0, options: options)
            let headers = try CompactionTest.headers(log).filter { $0.producerId == 7000 }
            #expect(headers.count == 1)
            let empty = try #require(headers.first)
            let last = producerBatches.last!
            #expect(empty.recordsCount == 0 && empty.baseOffset == last.baseOffset && empty.lastOffset == last.lastOffset)
            #expect(empty.baseSequence == last.baseSequence && empty.lastSequence == last.lastSequence && empty.producerEpoch == 0)
            #expect(empty.attributes.compression == CompressionCodec.none && empty.baseTimestamp == -1 && empty.maxTimestamp == last.maxTimestamp)
            // The first pass emptied it; later passes copy the empty batch as it is.
            #expect(result.emptyBatchesRetained == (round == 0 ? 1 : 0))
            #expect(result.batchesRemoved >= (round == 0 ? 3 : 0))
            // Producer 8000's last batch has records and stays.
            let lastOf8000 = try log.lastOffsetsByProducer()[8000]
            #expect(try CompactionTest.headers(log).last { $0.producerId == 8000 }?.lastOffset == lastOf8000)
            try CompactionTest.expectCompacted(log, other)
            try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
            try other.append(20, to: log, cover: false)
            try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        }

        // Once producer 7000 writes again, its empty batch is no longer its last and goes.
        try producer.append(5, to: log, cover: false)
        let newest = try CompactionTest.headers(log).last { $0.producerId == 7000 }!
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0)
        let result = try log.clean(now: LogTest.t0)
        #expect(result.batchesRemoved >= 1)
        let remaining = try CompactionTest.headers(log).filter { $0.producerId == 7000 }
        #expect(remaining.map(\.baseOffset) == [newest.baseOffset] && remaining[0].lastOffset == newest.lastOffset)
        #expect(remaining[0].baseSequence == 20 && remaining[0].recordsCount > 0)
    }

    @Test("a crash at each step of a segment swap recovers to a consistent log", arguments: [
        CleaningCrashPoint.cleanedWritten, .swapped, .oldSegmentsDeleted, .logInstalled,
    ])
    func crashDuringSwap(at point: CleaningCrashPoint) throws {
        let directory = TemporaryLogDirectory()
        let copy = TemporaryLogDirectory()
        defer {
            directory.remove()
            copy.remove()
        }
        let config = CompactionTest.config()
        let log = try LogTest.open(directory, config: config)
        var workload = KeyedWorkload(keys: 30, codec: .snappy)
        try workload.append(1_500, to: log)
        // A first pass leaves small segments, which the next pass merges: its first group has several.
        try log.clean(now: LogTest.t0)
        try workload.append(1_500, to: log, cover: false)
        try log.flush()
        #expect(log.segments[0].size + log.segments[1].size <= config.segmentBytes)
        let endOffset = log.logEndOffset
        log.cleanerState.crashPoint = point
        #expect(throws: LogError.self) { try log.clean(now: LogTest.t0) }
        // Past the commit point the log object is closed; before it, it is intact.
        if point == .cleanedWritten {
            try CompactionTest.expectCompacted(log, workload)
        } else {
            #expect(throws: LogError.closed) { try log.read(from: 0, maxBytes: 100) }
        }
        let names = directory.names()
        switch point {
        case .cleanedWritten: #expect(names.contains("00000000000000000000.log.cleaned"))
        case .swapped, .oldSegmentsDeleted: #expect(names.contains("00000000000000000000.log.swap"))
        case .logInstalled: #expect(names.contains("00000000000000000000.index.swap") && !names.contains("00000000000000000000.log.swap"))
        }
        try FileManager.default.createDirectory(atPath: copy.partitionDirectory(), withIntermediateDirectories: true)
        for name in names { try FileManager.default.copyItem(atPath: directory.file(name), toPath: copy.file(name)) }

        // The broker dies here; a restart recovers from the files, scanning them all or (the copy)
        // trusting the segments below its recovery point.
        for (files, recoveryPoint) in [(directory, Int64(0)), (copy, endOffset)] {
            let reopened = try LogTest.open(files, config: config, recoveryPoint: recoveryPoint)
            #expect(reopened.logEndOffset == endOffset)
            #expect(reopened.recoveryReport.corruption == nil && reopened.recoveryReport.bytesTruncated == 0)
            #expect(reopened.recoveryReport.swapsCompleted == (point == .swapped || point == .oldSegmentsDeleted ? 1 : 0))
            #expect(!files.names().contains { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") || $0.hasSuffix(".deleted") })
            try CompactionTest.expectCompacted(reopened, workload)
            try CompactionTest.expectIndexesMatch(reopened)
            let offsets = try CompactionTest.records(reopened).map(\.offset)
            #expect(offsets.count == Set(offsets).count)
            // It cleans and appends normally afterwards.
            try reopened.clean(now: LogTest.t0)
            #expect(try CompactionTest.cleanedPartHasUniqueKeys(reopened))
            try CompactionTest.expectCompacted(reopened, workload)
            #expect(try reopened.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0).firstOffset == endOffset)
            try reopened.close()
        }
    }

    @Test("the produce check finds the first record without a key; cleaning drops keyless records")
    func nullKeys() throws {
        func batch(_ keys: [String?], codec: CompressionCodec = .none) throws -> ByteBuffer {
            var builder = RecordBatchBuilder(compression: codec)
            for key in keys { builder.append(timestamp: LogTest.t0, key: key.map { ByteBuffer(string: $0) }, value: ByteBuffer(string: "v")) }
            return try builder.finish()
        }
        for codec in CompressionCodec.allCases {
            #expect(try PartitionLog.firstRecordWithoutKey(in: try batch(["a", "b", nil, "c", nil], codec: codec)) == 2)
            #expect(try PartitionLog.firstRecordWithoutKey(in: try batch(["a", "b"], codec: codec)) == nil)
            #expect(try PartitionLog.firstRecordWithoutKey(in: try batch([nil], codec: codec)) == 0)
        }
        var two = try batch(["a", "b"])
        two.writeImmutableBuffer(try batch(["c", nil]))
        #expect(try PartitionLog.firstRecordWithoutKey(in: two) == 3)
        let marker = try ControlRecordTestSupport.commitMarker()
        #expect(try PartitionLog.firstRecordWithoutKey(in: marker) == nil)
        #expect(PartitionLog.missingKeyMessage(topic: "t", partition: 3) == "Compacted topic cannot accept message without key in topic partition t-3.")

        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: CompactionTest.config(segmentBytes: 100))
        try log.appendAsLeader(try batch(["a", nil, "b"]), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(try batch(["c"]), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(try batch(["d"]), leaderEpoch: 0, now: LogTest.t0)
        #expect(log.segmentBaseOffsets.count == 3)
        try log.clean(now: LogTest.t0)
        #expect(try CompactionTest.records(log).map(\.key) == ["a", "b", "c", "d"])
        #expect(try CompactionTest.records(log).map(\.offset) == [0, 2, 3, 4])
    }

    @Test("compact,delete also applies time retention; compact alone does not")
    func compactDeleteAppliesRetention() throws {
        var policy = LogConfig()
        #expect(policy.cleanupPolicy == "delete" && !policy.compact && policy.delete)
        policy.cleanupPolicy = "compact, delete"
        #expect(policy.compact && policy.delete && policy.cleanupPolicy == "compact,delete")
        #expect(LogConfig(compact: true).cleanupPolicy == "compact")
        #expect(LogConfig().deleteRetentionMs == 86_400_000 && LogConfig().minCompactionLagMs == 0)
        #expect(LogConfig().maxCompactionLagMs == .max && LogConfig().minCleanableDirtyRatio == 0.5)

        for policy in ["compact", "compact,delete"] {
            let directory = TemporaryLogDirectory()
            defer { directory.remove() }
            var config = CompactionTest.config()
            config.cleanupPolicy = policy
            config.retentionMs = CompactionTest.day
            let log = try LogTest.open(directory, config: config)
            var old = KeyedWorkload(keys: 20, prefix: "old-")
            try old.append(400, to: log, timestamp: LogTest.t0)
            var recent = KeyedWorkload(keys: 20, prefix: "new-")
            try recent.append(400, to: log, timestamp: LogTest.t0 + 2 * CompactionTest.day)
            let deleted = try log.applyRetention(now: LogTest.t0 + 2 * CompactionTest.day)
            try log.clean(now: LogTest.t0 + 2 * CompactionTest.day)
            try CompactionTest.expectCompacted(log, recent)
            #expect(try CompactionTest.cleanedPartHasUniqueKeys(log))
            if policy == "compact" {
                #expect(deleted.baseOffsets.isEmpty && log.logStartOffset == 0)
                try CompactionTest.expectCompacted(log, old)
            } else {
                #expect(deleted.byTime > 0 && deleted.bySize == 0 && log.logStartOffset > 0)
                #expect(try CompactionTest.records(log).allSatisfy { $0.offset >= log.logStartOffset })
            }
        }
    }

    @Test("dirty ratio, min.compaction.lag.ms and max.compaction.lag.ms decide what is cleanable")
    func dirtinessAndLags() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = CompactionTest.config()
        let log = try LogTest.open(directory, config: config)
        #expect(!log.needsCleaning(now: LogTest.t0) && log.dirtyRatio == 0)
        var workload = KeyedWorkload(keys: 600)
        try workload.append(2_400, to: log)
        try log.clean(now: LogTest.t0)

        // A little dirty data: below the ratio.
        try workload.append(60, to: log, timestamp: LogTest.t0 + CompactionTest.hour, cover: false)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0 + CompactionTest.hour)
        try log.appendAsLeader(LogTest.batch(records: 20, valueSize: 100), leaderEpoch: 0, now: LogTest.t0 + CompactionTest.hour)
        let now = LogTest.t0 + 2 * CompactionTest.hour
        let range = try log.cleanableRange(now: now)
        #expect(range.cleanableBytes > 0 && range.dirtyRatio > 0 && range.dirtyRatio < 0.5)
        #expect(range.firstDirtyOffset == log.cleanerCheckpoint)
        #expect(!log.needsCleaning(now: now))
        config.minCleanableDirtyRatio = range.dirtyRatio / 2
        log.config = config
        #expect(log.needsCleaning(now: now))
        config.minCleanableDirtyRatio = 0.5

        // max.compaction.lag.ms forces it once the oldest dirty batch is old enough.
        config.maxCompactionLagMs = 3 * CompactionTest.hour
        log.config = config
        #expect(!log.needsCleaning(now: now))
        #expect(log.needsCleaning(now: LogTest.t0 + 4 * CompactionTest.hour + 1_000))
        #expect(try log.cleanableRange(now: LogTest.t0 + 5 * CompactionTest.hour).maxCompactionDelayMs > 0)

        // min.compaction.lag.ms keeps recent segments out.
        config.minCompactionLagMs = 6 * CompactionTest.hour
        log.config = config
        let lagged = try log.cleanableRange(now: LogTest.t0 + 5 * CompactionTest.hour)
        #expect(lagged.cleanableBytes == 0 && lagged.firstUncleanableOffset == lagged.firstDirtyOffset)
        #expect(!log.needsCleaning(now: LogTest.t0 + 5 * CompactionTest.hour))
        let before = try LogTest.readAll(log)
        #expect(try log.clean(now: LogTest.t0 + 5 * CompactionTest.hour).segmentsWritten == 0)
        #expect(try LogTest.readAll(log) == before)
        #expect(log.needsCleaning(now: LogTest.t0 + 8 * CompactionTest.hour))
        try log.clean(now: LogTest.t0 + 8 * CompactionTest.hour)
        try CompactionTest.expectCompacted(log, workload)
        #expect(try CompactionTest.cleanedPartHasUniqueKeys(log))

        // Truncation lowers the checkpoint; a checkpoint outside the log means "from the start".
        let checkpoint = try #require(log.cleanerCheckpoint)
        try log.truncate(to: checkpoint - 10)
        #expect(try #require(log.cleanerCheckpoint) <= checkpoint - 10)
        log.cleanerCheckpoint = log.logEndOffset + 100
        #expect(try log.cleanableRange(now: LogTest.t0).firstDirtyOffset == log.logStartOffset)
    }

    @Test("a small budget cleans in several passes to the same result; high watermark bounds it")
    func incrementalPasses() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: CompactionTest.config())
        var workload = KeyedWorkload(keys: 100, codec: .gzip)
        try workload.append(3_000, to: log)
        let activeBase = log.activeSegmentBaseOffset

        let hwSegment = log.segmentBaseOffsets[3]
        let bounded = try log.clean(now: LogTest.t0, options: CleaningOptions(highWatermark: hwSegment + 1))
        #expect(bounded.cleanedUpTo == hwSegment && log.cleanerCheckpoint == hwSegment)
        try CompactionTest.expectCompacted(log, workload)

        var passes = 0
        while log.cleanerCheckpoint! < activeBase {
            let result = try log.clean(now: LogTest.t0, options: CleaningOptions(maxDirtyBytes: 1))
            #expect(result.cleanedUpTo > result.firstDirtyOffset)
            try CompactionTest.expectCompacted(log, workload)
            passes += 1
            #expect(passes < 1000)
        }
        #expect(passes > 3)
        // A last pass against the full map leaves one record per key below the active segment.
        log.cleanerCheckpoint = nil
        try log.clean(now: LogTest.t0)
        #expect(try CompactionTest.cleanedPartHasUniqueKeys(log))
        try CompactionTest.expectCompacted(log, workload)
    }
}

/// Encodes producer batches with raw pointer writes: `RecordBatchBuilder` goes through `ByteBuffer`
/// a byte at a time, which is slow in debug builds, and these tests write tens of thousands of records.
struct FastBatchEncoder {
    private var records = [UInt8](repeating: 0, count: 1 << 16)
    private var length = 0
    private var count: Int32 = 0
    private var maxDelta: Int64 = 0

    mutating func append(timestampDelta: Int64, key: String?, value: String?) {
        var body = [UInt8]()
        body.reserveCapacity(64)
        body.append(0)
        Self.varint(timestampDelta, into: &body)
        Self.varint(Int64(count), into: &body)
        for field in [key, value] {
            if let field {
                Self.varint(Int64(field.utf8.count), into: &body)
                body.append(contentsOf: field.utf8)
            } else {
                Self.varint(-1, into: &body)
            }
        }
        body.append(0)  // no headers
        var prefix = [UInt8]()
        Self.varint(Int64(body.count), into: &prefix)
        if length + prefix.count + body.count > records.count { records += [UInt8](repeating: 0, count: records.count) }
        records.replaceSubrange(length..<length + prefix.count, with: prefix)
        length += prefix.count
        records.replaceSubrange(length..<length + body.count, with: body)
        length += body.count
        maxDelta = count == 0 ? timestampDelta : max(maxDelta, timestampDelta)
        count += 1
    }

    mutating func finish(
        baseTimestamp: Int64, codec: CompressionCodec, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1
    ) throws -> ByteBuffer {
        var area = ByteBuffer()
        area.writeBytes(records[..<length])
        var header = RecordBatchHeader(
            attributes: RecordBatchAttributes(compression: codec), lastOffsetDelta: count - 1, baseTimestamp: baseTimestamp,
            maxTimestamp: baseTimestamp + maxDelta, producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence,
            recordsCount: count)
        var batch = ByteBuffer()
        header.write(to: &batch)
        if codec == .none { batch.writeImmutableBuffer(area) } else { try RecordCompression.compress(area, codec: codec, appendingTo: &batch) }
        header.batchLength = Int32(batch.readableBytes - RecordBatchHeader.logOverhead)
        header.write(to: &batch, at: 0)
        let crc = batch.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[RecordBatchHeader.Offset.attributes...])) }
        batch.setInteger(crc, at: RecordBatchHeader.Offset.crc)
        length = 0
        count = 0
        return batch
    }

    static func varint(_ value: Int64, into bytes: inout [UInt8]) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: raw) | 0x80)
            raw >>= 7
        }
        bytes.append(UInt8(raw))
    }
}

/// A COMMIT control batch for tests.
enum ControlRecordTestSupport {
    static func commitMarker() throws -> ByteBuffer {
        var builder = RecordBatchBuilder(producerId: 1, producerEpoch: 0, isTransactional: true, isControl: true)
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(Int16(1))
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(Int32(0))
        builder.append(timestamp: LogTest.t0, key: key, value: value)
        return try builder.finish()
    }
}
