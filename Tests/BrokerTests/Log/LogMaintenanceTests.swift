import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

@Suite("PartitionLog retention, DeleteRecords, truncation, flushing")
struct LogMaintenanceTests {
    static let day: Int64 = 24 * 60 * 60 * 1000

    @Test("time retention deletes the oldest segments whose newest record is older than retention.ms, never the active one")
    func retentionByTime() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 700)
        config.retentionMs = Self.day
        let log = try LogTest.open(directory, config: config)
        // 4 batches per segment; batch i has timestamps t0 + i hours.
        for index in 0..<20 {
            try log.appendAsLeader(
                LogTest.batch(timestamp: LogTest.t0 + Int64(index) * 3_600_000, tag: index), leaderEpoch: 0, now: LogTest.t0)
        }
        #expect(log.segmentBaseOffsets == [0, 12, 24, 36, 48])
        let epochPath = directory.file("leader-epoch-checkpoint")
        #expect(FileIO.exists(epochPath))

        // Nothing is a day old yet.
        #expect(try log.applyRetention(now: LogTest.t0 + Self.day).baseOffsets.isEmpty)
        // Segment 0 holds hours 0-3, segment 12 hours 4-7 (+2 ms): at t0 + 1 day + 7 h + 3 ms both expired.
        let deleted = try log.applyRetention(now: LogTest.t0 + Self.day + 7 * 3_600_000 + 3)
        #expect(deleted.baseOffsets == [0, 12] && deleted.byTime == 2)
        #expect(log.segmentBaseOffsets == [24, 36, 48])
        #expect(log.logStartOffset == 24 && deleted.logStartOffset == 24)
        #expect(!directory.names().contains("00000000000000000000.log"))
        #expect(!directory.names().contains { $0.hasSuffix(".deleted") })
        #expect(log.leaderEpochEntries == [LeaderEpochEntry(epoch: 0, startOffset: 24)])
        // Far in the future everything but the active segment goes.
        let rest = try log.applyRetention(now: LogTest.t0 + 100 * Self.day)
        #expect(rest.baseOffsets == [24, 36] && log.segmentBaseOffsets == [48])
        #expect(try LogTest.recordOffsets(try LogTest.readAll(log)) == Array(48..<60))
    }

    @Test("size retention deletes the oldest segments while the rest still reaches retention.bytes")
    func retentionBySize() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 700)
        let log = try LogTest.open(directory, config: config)
        try LogTest.fill(log, batches: 20)
        let segmentSize = Int64(4 * LogTest.batch().readableBytes)
        #expect(log.size == 5 * segmentSize)
        config.retentionBytes = 2 * segmentSize + 1
        log.config = config
        let deleted = try log.applyRetention(now: LogTest.t0)
        #expect(deleted.baseOffsets == [0, 12] && deleted.bySize == 2 && deleted.bytes == 2 * segmentSize)
        #expect(log.size == 3 * segmentSize && log.logStartOffset == 24)
        // With a high watermark, only segments wholly below it go.
        config.retentionBytes = 0
        log.config = config
        #expect(try log.applyRetention(now: LogTest.t0, highWatermark: 40).baseOffsets == [24])
        #expect(try log.applyRetention(now: LogTest.t0).baseOffsets == [36])
        #expect(log.segmentBaseOffsets == [48])
    }

    @Test("DeleteRecords raises the log start offset and deletes segments wholly below it")
    func deleteRecords() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700))
        try LogTest.fill(log, batches: 20)
        let result = try log.deleteRecords(before: 25)
        #expect(result.baseOffsets == [0, 12] && result.logStartOffset == 25)
        #expect(log.logStartOffset == 25 && log.segmentBaseOffsets.first == 24)
        #expect(try log.read(from: 25, maxBytes: .max).firstBatchBaseOffset == 24)
        #expect(try log.deleteRecords(before: 10).baseOffsets.isEmpty)
        #expect(log.logStartOffset == 25)
        #expect(throws: LogError.self) { try log.deleteRecords(before: 61) }
        // Up to the end: all but the active segment.
        #expect(try log.deleteRecords(before: 60).baseOffsets == [24, 36])
        #expect(log.logStartOffset == 60 && log.segmentBaseOffsets == [48])
        #expect(try log.read(from: 60, maxBytes: .max).isEmpty)
        try log.close()
        let reopened = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700), recoveryPoint: 60, logStartOffset: 60, clean: true)
        #expect(reopened.logStartOffset == 60 && reopened.logEndOffset == 60)
    }

    @Test("truncate(to:) removes the offsets from there on, later segments included; appends continue")
    func truncate() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700))
        try LogTest.fill(log, batches: 10, epoch: 1)
        try LogTest.fill(log, batches: 10, epoch: 4)
        #expect(log.leaderEpochEntries.map(\.epoch) == [1, 4])
        try log.flush(now: LogTest.t0)

        try log.truncate(to: 33)  // batch 33-35 goes whole: the end becomes 33
        #expect(log.logEndOffset == 33 && log.recoveryPoint == 33)
        #expect(log.segmentBaseOffsets == [0, 12, 24])
        #expect(log.leaderEpochEntries == [LeaderEpochEntry(epoch: 1, startOffset: 0), LeaderEpochEntry(epoch: 4, startOffset: 30)])
        try log.truncate(to: 28)  // mid-batch 27-29: the end becomes 27
        #expect(log.logEndOffset == 27)
        #expect(log.leaderEpochEntries == [LeaderEpochEntry(epoch: 1, startOffset: 0)])
        #expect(try LogTest.recordOffsets(try LogTest.readAll(log)) == Array(0..<27))
        #expect(log.size == Int64(9 * LogTest.batch().readableBytes))
        for offset in Int64(0)..<27 { #expect(try log.read(from: offset, maxBytes: 1).firstBatchBaseOffset == offset - offset % 3) }

        try log.appendAsLeader(LogTest.batch(), leaderEpoch: 6, now: LogTest.t0)
        #expect(log.logEndOffset == 30)
        #expect(log.leaderEpochEntries.last == LeaderEpochEntry(epoch: 6, startOffset: 27))
        try log.close()
        let reopened = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700), recoveryPoint: 0)
        #expect(reopened.recoveryReport.corruption == nil)
        #expect(reopened.logEndOffset == 30)
        #expect(try LogTest.recordOffsets(try LogTest.readAll(reopened)) == Array(0..<30))

        try reopened.truncate(to: 0)
        #expect(reopened.logEndOffset == 0 && reopened.segmentBaseOffsets == [0] && reopened.size == 0)
        #expect(reopened.leaderEpochEntries.isEmpty)
    }

    @Test("flush policy: interval messages, interval ms, rolled segments; flush advances the recovery point")
    func flushPolicy() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 1 << 20)
        config.flushIntervalMessages = 10
        config.flushIntervalMs = 1000
        let log = try LogTest.open(directory, config: config)
        #expect(!log.needsFlush(now: LogTest.t0 + 10_000))
        try LogTest.fill(log, batches: 3)
        #expect(!log.needsFlush(now: LogTest.t0 + 999))
        #expect(log.needsFlush(now: LogTest.t0 + 1000))
        try LogTest.fill(log, batches: 1)
        #expect(log.needsFlush(now: LogTest.t0))
        let request = try #require(log.prepareFlush())
        #expect(request.upToOffset == 12)
        try log.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0)
        try request.perform()
        log.completeFlush(request, now: LogTest.t0 + 5)
        #expect(log.recoveryPoint == 12 && log.lastFlushTime == LogTest.t0 + 5)
        #expect(!log.needsFlush(now: LogTest.t0 + 6))
        try log.flush(now: LogTest.t0 + 7)
        #expect(log.recoveryPoint == 15 && log.prepareFlush() == nil)

        // A flush prepared before a truncation does not move the recovery point.
        let stale = try #require({ try log.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0); return log.prepareFlush() }())
        try log.truncate(to: 15)
        try stale.perform()
        log.completeFlush(stale, now: LogTest.t0)
        #expect(log.recoveryPoint == 15)

        // A rolled segment asks for a flush.
        config.flushIntervalMessages = .max
        config.flushIntervalMs = nil
        config.segmentBytes = 700
        log.config = config
        try LogTest.fill(log, batches: 5)
        #expect(log.activeSegmentBaseOffset > log.recoveryPoint)
        #expect(log.needsFlush(now: LogTest.t0))
        try log.flush(now: LogTest.t0)
        #expect(log.recoveryPoint == log.logEndOffset)
    }

    @Test("segments roll by age (log.roll.ms): incoming timestamps against the first batch's, else wall time since creation")
    func rollByAge() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 1 << 20)
        config.segmentMs = 60_000
        let log = try LogTest.open(directory, config: config)
        try log.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0)
        // The first batch's max timestamp is t0 + 2; a batch from t0 + 60_000 ends at t0 + 60_002.
        #expect(try !log.appendAsLeader(LogTest.batch(timestamp: LogTest.t0 + 60_000), leaderEpoch: 0, now: LogTest.t0 + 99_999_999).rolled)
        #expect(try log.appendAsLeader(LogTest.batch(timestamp: LogTest.t0 + 60_001), leaderEpoch: 0, now: LogTest.t0).rolled)
        #expect(log.segmentBaseOffsets == [0, 6])

        // Without timestamps, the segment's age counts (the test clock created it at t0).
        var builder = RecordBatchBuilder()
        builder.append(timestamp: -1, key: nil, value: ByteBuffer(string: "no time"))
        let untimed = try builder.finish()
        try log.truncate(to: 0)
        try log.appendAsLeader(untimed, leaderEpoch: 0, now: LogTest.t0)
        #expect(try !log.appendAsLeader(untimed, leaderEpoch: 0, now: LogTest.t0 + 60_000).rolled)
        #expect(try log.appendAsLeader(untimed, leaderEpoch: 0, now: LogTest.t0 + 60_001).rolled)
    }

    @Test("a full index rolls the segment")
    func rollOnFullIndex() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 1 << 20, indexIntervalBytes: 0)
        config.maxIndexSize = 60  // 7 offset entries, 5 time entries (one kept for the roll)
        let log = try LogTest.open(directory, config: config)
        try LogTest.fill(log, batches: 12)
        // Every batch but a segment's first is indexed: the time index is full at 4 entries (its fifth
        // slot is kept for the final entry at the roll), so a segment holds 5 batches.
        #expect(log.segmentBaseOffsets == [0, 15, 30])
        try log.close()
        #expect(directory.size("00000000000000000000.timeindex") == 4 * 12)
        #expect(directory.size("00000000000000000000.index") == 4 * 8)
        let reopened = try LogTest.open(directory, config: config, recoveryPoint: 0)
        #expect(reopened.recoveryReport.corruption == nil && reopened.logEndOffset == 36)
    }

    @Test("follower appends keep offsets and epochs, allow gaps, reject offsets below the end, ignore a partial tail")
    func followerAppend() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let leaderDirectory = TemporaryLogDirectory()
        defer { leaderDirectory.remove() }
        let leader = try LogTest.open(leaderDirectory)
        try LogTest.fill(leader, batches: 5, epoch: 1)
        try LogTest.fill(leader, batches: 5, epoch: 2)
        var fetched = try LogTest.readAll(leader)
        let follower = try LogTest.open(directory)
        var partial = fetched.getSlice(at: 0, length: fetched.readableBytes - 10)!
        let result = try follower.appendAsFollower(partial, now: LogTest.t0)
        #expect(result.firstOffset == 0 && result.lastOffset == 26 && result.batches == 9)
        #expect(follower.logEndOffset == 27)
        #expect(follower.leaderEpochEntries == [LeaderEpochEntry(epoch: 1, startOffset: 0), LeaderEpochEntry(epoch: 2, startOffset: 15)])
        let error = #expect(throws: LogError.self) { try follower.appendAsFollower(fetched, now: LogTest.t0) }
        #expect(error == .invalidAppendOffset(offset: 0, logEndOffset: 27))
        fetched.moveReaderIndex(forwardBy: partial.readableBytes - LogTest.batch().readableBytes + 10)
        try follower.appendAsFollower(fetched, now: LogTest.t0)
        #expect(try LogTest.readAll(follower) == LogTest.readAll(leader))

        // A gap (compaction) is fine; a corrupt batch is not.
        var builder = RecordBatchBuilder(baseOffset: 100, partitionLeaderEpoch: 3)
        builder.append(timestamp: LogTest.t0, key: nil, value: ByteBuffer(string: "x"))
        var gap = try builder.finish()
        try follower.appendAsFollower(gap, now: LogTest.t0)
        #expect(follower.logEndOffset == 101)
        #expect(follower.leaderEpochEntries.last == LeaderEpochEntry(epoch: 3, startOffset: 100))
        #expect(try follower.read(from: 50, maxBytes: .max).firstBatchBaseOffset == 100)
        RecordBatch.assign(baseOffset: 200, partitionLeaderEpoch: 3, in: &gap)
        gap.setInteger(UInt8(0xEE), at: gap.writerIndex - 1)
        let corrupt = #expect(throws: LogError.self) { try follower.appendAsFollower(gap, now: LogTest.t0) }
        #expect(corrupt?.kafkaErrorCode == .corruptMessage)
        partial = ByteBuffer()
        #expect(try follower.appendAsFollower(partial, now: LogTest.t0).batches == 0)
    }

    @Test("deleteAll removes the partition directory")
    func deleteAll() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 20)
        let reader = try log.read(from: 0, maxBytes: .max)
        try log.deleteAll()
        #expect(!FileIO.exists(directory.partitionDirectory()))
        #expect(try FileIO.list(directory.path).isEmpty)
        #expect(throws: LogError.closed) { try log.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0) }
        #expect(try reader.readBytes().readableBytes == reader.size)
    }
}
