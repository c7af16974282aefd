import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

@Suite("PartitionLog append and read")
struct PartitionLogReadTests {
    @Test("appends assign consecutive offsets and the leader epoch; reads return them across segment rolls")
    func roundTripAcrossRolls() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        let results = try LogTest.fill(log, batches: 40, epoch: 3)
        #expect(results.map(\.firstOffset) == (0..<40).map { Int64($0) * 3 })
        #expect(results.map(\.lastOffset) == (0..<40).map { Int64($0) * 3 + 2 })
        #expect(log.logEndOffset == 120)
        #expect(log.segmentBaseOffsets.count > 4, "1 KiB segments must have rolled")
        #expect(results.contains { $0.rolled })
        #expect(log.segmentBaseOffsets.first == 0)
        #expect(log.activeSegmentBaseOffset == log.segmentBaseOffsets.last)

        // Every segment file is named by its base offset, 20 digits, with both indexes.
        let names = directory.names()
        for base in log.segmentBaseOffsets {
            let prefix = String(repeating: "0", count: 20 - String(base).count) + String(base)
            #expect(names.contains(prefix + ".log") && names.contains(prefix + ".index") && names.contains(prefix + ".timeindex"))
        }

        let all = try LogTest.readAll(log)
        let headers = try LogTest.headers(all)
        #expect(headers.map(\.baseOffset) == (0..<40).map { Int64($0) * 3 })
        #expect(headers.allSatisfy { $0.partitionLeaderEpoch == 3 })
        #expect(try LogTest.recordOffsets(all) == Array(0..<120))
        #expect(Int64(all.readableBytes) == log.size)

        // Reading from every offset starts at the batch holding it and runs to the end.
        for offset in Int64(0)..<120 {
            let result = try log.read(from: offset, maxBytes: .max)
            #expect(result.firstBatchBaseOffset == offset - offset % 3)
            #expect(result.nextOffset == 120)
            let bytes = try result.readBytes()
            #expect(try LogTest.headers(bytes).first?.baseOffset == offset - offset % 3)
            #expect(try LogTest.recordOffsets(bytes).last == 119)
        }
    }

    @Test("a read from the middle of a batch returns that whole batch first")
    func readFromMiddleOfBatch() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 1 << 20))
        try log.appendAsLeader(LogTest.batch(records: 5), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(LogTest.batch(records: 10, tag: 1), leaderEpoch: 0, now: LogTest.t0)
        try log.appendAsLeader(LogTest.batch(records: 2, tag: 2), leaderEpoch: 0, now: LogTest.t0)
        let result = try log.read(from: 9, maxBytes: .max)
        #expect(result.firstBatchBaseOffset == 5)
        let headers = try LogTest.headers(try result.readBytes())
        #expect(headers.map(\.baseOffset) == [5, 15])
        #expect(headers.map(\.lastOffset) == [14, 16])
    }

    @Test("maxBytes returns whole batches only; minOneBatch returns an oversized first batch")
    func maxBytesAndMinOneBatch() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700, indexIntervalBytes: 200))
        try LogTest.fill(log, batches: 20)
        let batchSize = LogTest.batch().readableBytes

        // Less than one batch: the first batch with minOneBatch, nothing without.
        let one = try log.read(from: 4, maxBytes: 10, minOneBatch: true)
        #expect(one.size == batchSize)
        #expect(try LogTest.headers(try one.readBytes()).map(\.baseOffset) == [3])
        #expect(one.nextOffset == 6)
        let none = try log.read(from: 4, maxBytes: 10, minOneBatch: false)
        #expect(none.isEmpty && none.slices.isEmpty && none.nextOffset == 4)

        // Room for 2.5 batches gives 2, from every start offset, across segment boundaries.
        for start in Int64(0)..<57 {
            let result = try log.read(from: start, maxBytes: batchSize * 5 / 2)
            let headers = try LogTest.headers(try result.readBytes())
            #expect(headers.count == 2, "from \(start)")
            #expect(headers.first?.baseOffset == start - start % 3)
            #expect(result.size == 2 * batchSize)
            #expect(result.nextOffset == start - start % 3 + 6)
        }
        // Everything fits exactly.
        #expect(try log.read(from: 0, maxBytes: Int(log.size)).size == Int(log.size))
        #expect(try log.read(from: 0, maxBytes: Int(log.size) - 1).size == Int(log.size) - batchSize)
    }

    @Test("reads stop before the high watermark")
    func upToHighWatermark() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 20)
        for highWatermark in [Int64(0), 3, 4, 5, 6, 30, 31, 59, 60] {
            for start in Int64(0)...min(highWatermark, 59) {
                let result = try log.read(from: start, maxBytes: .max, upTo: highWatermark)
                let offsets = try LogTest.recordOffsets(try result.readBytes())
                let complete = highWatermark - highWatermark % 3  // batches wholly below it
                let first = start - start % 3
                #expect(offsets == (first < complete ? Array(first..<complete) : []), "hw \(highWatermark) from \(start)")
            }
        }
        #expect(try log.read(from: 30, maxBytes: .max, upTo: 30).isEmpty)
    }

    @Test("offsets outside [logStartOffset, logEndOffset] are OFFSET_OUT_OF_RANGE; the end offset reads empty")
    func outOfRange() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        #expect(try log.read(from: 0, maxBytes: 100).isEmpty)
        try LogTest.fill(log, batches: 10)
        #expect(try log.read(from: 30, maxBytes: 100).isEmpty)
        #expect(throws: LogError.offsetOutOfRange(offset: 31, logStartOffset: 0, logEndOffset: 30)) {
            try log.read(from: 31, maxBytes: 100)
        }
        try log.deleteRecords(before: 10)
        let error = #expect(throws: LogError.self) { try log.read(from: 9, maxBytes: 100) }
        #expect(error?.kafkaErrorCode == .offsetOutOfRange)
        #expect(try log.read(from: 10, maxBytes: .max).firstBatchBaseOffset == 9)
    }

    @Test("an append larger than a segment is RECORD_LIST_TOO_LARGE, a batch over message.max.bytes MESSAGE_TOO_LARGE")
    func appendLimits() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        var config = LogTest.config(segmentBytes: 1000)
        config.messageMaxBytes = 800
        let log = try LogTest.open(directory, config: config)
        let big = LogTest.batch(records: 10, valueSize: 100)
        #expect(big.readableBytes > 1000)
        let tooLarge = #expect(throws: LogError.self) { try log.appendAsLeader(big, leaderEpoch: 0, now: LogTest.t0) }
        #expect(tooLarge?.kafkaErrorCode == .messageTooLarge)

        config.messageMaxBytes = 1 << 20
        log.config = config
        let error = #expect(throws: LogError.self) { try log.appendAsLeader(big, leaderEpoch: 0, now: LogTest.t0) }
        #expect(error?.kafkaErrorCode == .recordListTooLarge)

        var two = LogTest.batch(records: 4, valueSize: 100)
        var second = LogTest.batch(records: 4, valueSize: 100, tag: 1)
        two.writeBuffer(&second)
        #expect(two.readableBytes > 1000)
        #expect(throws: LogError.recordListTooLarge(size: two.readableBytes, segmentBytes: 1000)) {
            try log.appendAsLeader(two, leaderEpoch: 0, now: LogTest.t0)
        }
        var torn = LogTest.batch()
        torn.moveWriterIndex(to: torn.writerIndex - 1)
        let invalid = #expect(throws: LogError.self) { try log.appendAsLeader(torn, leaderEpoch: 0, now: LogTest.t0) }
        #expect(invalid?.kafkaErrorCode == .corruptMessage)
        #expect(log.logEndOffset == 0 && log.size == 0)
    }

    @Test("several batches in one append: one write, consecutive offsets, caller's buffer untouched")
    func multiBatchAppend() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 1 << 20))
        try LogTest.fill(log, batches: 1)
        var batches = ByteBuffer()
        for tag in 0..<3 {
            var batch = LogTest.batch(records: 2 + tag, timestamp: LogTest.t0 + Int64(100 * tag), tag: tag)
            batches.writeBuffer(&batch)
        }
        let original = batches
        let result = try log.appendAsLeader(batches, leaderEpoch: 7, now: LogTest.t0)
        #expect(batches == original)
        #expect(result.firstOffset == 3 && result.lastOffset == 11 && result.batches == 3)
        #expect(result.maxTimestamp == LogTest.t0 + 203 && result.offsetOfMaxTimestamp == 11)
        #expect(result.logAppendTime == -1)
        let headers = try LogTest.headers(try LogTest.readAll(log, from: 3))
        #expect(headers.map(\.baseOffset) == [3, 5, 8])
        #expect(headers.map(\.partitionLeaderEpoch) == [7, 7, 7])
        #expect(log.leaderEpochEntries == [LeaderEpochEntry(epoch: 0, startOffset: 0), LeaderEpochEntry(epoch: 7, startOffset: 3)])
    }

    @Test("a LogAppendTime batch reports its broker timestamp")
    func logAppendTime() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        var batch = LogTest.batch()
        RecordBatch.setLogAppendTime(LogTest.t0 + 500, in: &batch)
        let result = try log.appendAsLeader(batch, leaderEpoch: 0, now: LogTest.t0 + 500)
        #expect(result.logAppendTime == LogTest.t0 + 500)
    }

    @Test("read slices map to file regions borrowing the segment descriptor")
    func fileRegions() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 20)
        let result = try log.read(from: 0, maxBytes: .max)
        #expect(result.slices.count == log.segmentBaseOffsets.count)
        #expect(result.slices.reduce(0) { $0 + $1.length } == result.size)
        for slice in result.slices {
            let region = slice.borrowedFileRegion()
            #expect(region.readerIndex == Int(slice.position) && region.readableBytes == slice.length)
            #expect(try region.fileHandle.withUnsafeFileDescriptor { $0 } == slice.file.descriptor)
            LogReadResult.Slice.endBorrow(of: region)
            #expect(!region.fileHandle.isOpen)
        }
        // The descriptors are still open: the borrow did not close them.
        #expect(try result.readBytes().readableBytes == result.size)
    }

    @Test("a read result stays readable after its segments are deleted")
    func readSurvivesDeletion() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 20)
        let result = try log.read(from: 0, maxBytes: .max)
        let expected = try result.readBytes()
        try log.deleteRecords(before: 57)
        #expect(log.segmentBaseOffsets.count == 1)
        #expect(try result.readBytes() == expected)
    }
}
