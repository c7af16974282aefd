import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

@Suite("PartitionLog reopening and crash recovery")
struct LogRecoveryTests {
    /// The names and bytes of every segment file.
    static func snapshot(_ directory: TemporaryLogDirectory) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in directory.names() where name.hasSuffix(".log") || name.hasSuffix("index") {
            files[name] = directory.bytes(name)
        }
        return files
    }

    static func lastLogName(_ directory: TemporaryLogDirectory) -> String {
        directory.names().last { $0.hasSuffix(".log") }!
    }

    @Test("reopening after a clean close gives the same log, files and indexes, without a scan")
    func cleanReopen() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 30, epoch: 2)
        let before = try LogTest.readAll(log)
        let segments = log.segmentBaseOffsets
        try log.close()
        #expect(log.recoveryPoint == 90)
        #expect(throws: LogError.closed) { try log.read(from: 0, maxBytes: 10) }
        let files = Self.snapshot(directory)
        // Closed indexes are trimmed to their entries, as Kafka leaves them.
        for (name, bytes) in files where name.hasSuffix(".index") { #expect(bytes.count % 8 == 0 && bytes.count < 4096) }
        for (name, bytes) in files where name.hasSuffix(".timeindex") { #expect(bytes.count % 12 == 0 && bytes.count < 4096) }

        let reopened = try LogTest.open(directory, recoveryPoint: 90, clean: true)
        #expect(reopened.recoveryReport.segmentsRecovered == 0 && reopened.recoveryReport.batchesScanned == 0)
        #expect(reopened.recoveryReport.indexesRebuilt == 0 && reopened.recoveryReport.bytesTruncated == 0)
        #expect(reopened.segmentBaseOffsets == segments)
        #expect(reopened.logEndOffset == 90 && reopened.logStartOffset == 0 && reopened.recoveryPoint == 90)
        #expect(try LogTest.readAll(reopened) == before)
        #expect(reopened.leaderEpochEntries == [LeaderEpochEntry(epoch: 2, startOffset: 0)])
        try reopened.close()
        #expect(Self.snapshot(directory) == files)

        // Appends continue at the right offset after a reopen.
        let again = try LogTest.open(directory, recoveryPoint: 90, clean: true)
        #expect(try again.appendAsLeader(LogTest.batch(), leaderEpoch: 2, now: LogTest.t0).firstOffset == 90)
        #expect(try LogTest.recordOffsets(try LogTest.readAll(again)) == Array(0..<93))
    }

    @Test("an unclean reopen scans only from the segment holding the recovery point")
    func uncleanReopenScansFromRecoveryPoint() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 30)
        try log.flush(now: LogTest.t0)
        #expect(log.recoveryPoint == 90)
        let before = try LogTest.readAll(log)
        let segments = log.segmentBaseOffsets
        // No close: the process "crashed" (the active segment's indexes are still preallocated).

        let reopened = try LogTest.open(directory, recoveryPoint: 90)
        #expect(reopened.recoveryReport.segmentsRecovered == 1)
        #expect(reopened.recoveryReport.bytesTruncated == 0 && reopened.recoveryReport.corruption == nil)
        #expect(reopened.segmentBaseOffsets == segments)
        #expect(try LogTest.readAll(reopened) == before)
        #expect(reopened.logEndOffset == 90)

        let full = try LogTest.open(directory, recoveryPoint: 0)
        #expect(full.recoveryReport.segmentsRecovered == segments.count)
        #expect(full.recoveryReport.batchesScanned == 30)
        #expect(Int64(full.recoveryReport.bytesScanned) == full.size)
    }

    enum Damage: CaseIterable {
        case tornWrite, flippedByte, garbageAppended, zeroedTail
    }

    @Test("a torn or corrupt tail is truncated; earlier data survives and appends continue", arguments: Damage.allCases)
    func corruptTail(damage: Damage) throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 30)
        let lastBatch = try log.read(from: 89, maxBytes: .max)
        let intact = try log.read(from: 0, maxBytes: Int(log.size) - lastBatch.size)
        let expected = try intact.readBytes()
        #expect(intact.nextOffset == 87)
        let name = Self.lastLogName(directory)
        var bytes = directory.bytes(name)
        let lastStart = bytes.count - lastBatch.size
        switch damage {
        case .tornWrite: bytes.removeLast(lastBatch.size / 2)
        case .flippedByte: bytes[lastStart + 70] ^= 0x40
        case .garbageAppended: bytes += [0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 2, 9, 9, 9]
        case .zeroedTail: for index in lastStart..<bytes.count { bytes[index] = 0 }
        }
        directory.write(bytes, to: name)

        let reopened = try LogTest.open(directory, recoveryPoint: 0)
        let report = reopened.recoveryReport
        #expect(report.corruption != nil)
        if damage == .garbageAppended {
            #expect(report.bytesTruncated == 20)
            #expect(reopened.logEndOffset == 90)
            #expect(try LogTest.recordOffsets(try LogTest.readAll(reopened)) == Array(0..<90))
        } else {
            #expect(report.bytesTruncated == Int64(bytes.count - lastStart))
            #expect(reopened.logEndOffset == 87)
            #expect(try LogTest.readAll(reopened) == expected)
        }
        let next = reopened.logEndOffset
        #expect(try reopened.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0).firstOffset == next)
        #expect(try LogTest.recordOffsets(try LogTest.readAll(reopened)) == Array(0..<(next + 3)))
    }

    @Test("corruption in an earlier unflushed segment drops it from there and every later segment")
    func corruptMiddleSegment() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 30)
        let segments = log.segmentBaseOffsets
        #expect(segments.count >= 4)
        let victim = segments[1]
        let name = LogFileNames.segmentPrefix(victim) + ".log"
        var bytes = directory.bytes(name)
        let batchSize = LogTest.batch().readableBytes
        bytes[batchSize + 80] ^= 1  // the second batch of the segment
        directory.write(bytes, to: name)

        let reopened = try LogTest.open(directory, recoveryPoint: 0)
        #expect(reopened.segmentBaseOffsets == [0, victim])
        #expect(reopened.logEndOffset == victim + 3)
        #expect(reopened.recoveryReport.segmentsDeleted == segments.count - 2)
        #expect(try LogTest.recordOffsets(try LogTest.readAll(reopened)) == Array(0..<(victim + 3)))
        #expect(!directory.names().contains(LogFileNames.segmentPrefix(segments[2]) + ".log"))
        try reopened.appendAsLeader(LogTest.batch(), leaderEpoch: 0, now: LogTest.t0)
        #expect(reopened.logEndOffset == victim + 6)
    }

    @Test("missing or garbled indexes are rebuilt identical to the originals")
    func indexRebuild() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 30)
        try log.close()
        let files = Self.snapshot(directory)
        let segments = log.segmentBaseOffsets
        let first = LogFileNames.segmentPrefix(segments[0])
        let middle = LogFileNames.segmentPrefix(segments[2])
        #expect(files[first + ".index"]!.count >= 16, "the test needs index entries")

        // Delete one index, garble another (positions past the end of the log), zero-extend a third.
        try FileIO.unlink(directory.file(first + ".index"))
        var garbled = files[middle + ".index"]!
        garbled[garbled.count - 2] = 0x7F
        directory.write(garbled, to: middle + ".index")
        let last = LogFileNames.segmentPrefix(segments.last!)
        directory.write(files[last + ".timeindex"]! + [UInt8](repeating: 0, count: 120), to: last + ".timeindex")

        let reopened = try LogTest.open(directory, recoveryPoint: 90, clean: true)
        #expect(reopened.recoveryReport.indexesRebuilt == 3)
        #expect(reopened.recoveryReport.bytesTruncated == 0)
        for offset in Int64(0)..<90 {
            #expect(try reopened.read(from: offset, maxBytes: 1).firstBatchBaseOffset == offset - offset % 3)
        }
        try reopened.close()
        #expect(Self.snapshot(directory) == files)
    }

    @Test("an index lost in a crash is rebuilt by recovery")
    func garbledIndexAfterCrash() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 12)
        let expected = try LogTest.readAll(log)
        try log.close()
        let files = Self.snapshot(directory)
        for name in files.keys where name.hasSuffix("index") {
            directory.write([UInt8](repeating: 0xAB, count: 37), to: name)
        }
        let reopened = try LogTest.open(directory, recoveryPoint: 0)
        #expect(reopened.recoveryReport.segmentsRecovered == files.count / 3)
        #expect(try LogTest.readAll(reopened) == expected)
        try reopened.close()
        #expect(Self.snapshot(directory) == files)
    }

    @Test("stray .deleted, .cleaned, .swap, .tmp and orphan index files are removed")
    func strayFiles() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 3)
        try log.close()
        let strays = [
            "00000000000000000000.log.deleted", "00000000000000000042.log.cleaned", "00000000000000000042.index.swap",
            "leader-epoch-checkpoint.tmp", "00000000000000000099.index", "00000000000000000099.timeindex",
        ]
        for name in strays { directory.write([1, 2, 3], to: name) }
        let reopened = try LogTest.open(directory, recoveryPoint: 9, clean: true)
        #expect(Set(reopened.recoveryReport.strayFilesRemoved) == Set(strays))
        for name in strays { #expect(!directory.names().contains(name)) }
        #expect(reopened.logEndOffset == 9)
    }

    @Test("a log start offset past the end restarts the log there")
    func logStartPastEnd() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 3)
        try log.close()
        let reopened = try LogTest.open(directory, recoveryPoint: 9, logStartOffset: 50, clean: true)
        #expect(reopened.logStartOffset == 50 && reopened.logEndOffset == 50 && reopened.segmentBaseOffsets == [50])
        #expect(try reopened.appendAsLeader(LogTest.batch(), leaderEpoch: 1, now: LogTest.t0).firstOffset == 50)
    }

    @Test("partition.metadata holds the topic id; another id is INCONSISTENT_TOPIC_ID")
    func partitionMetadata() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let id = KafkaUUID(mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 0xFEDC_BA98_7654_3210)
        let log = try LogTest.open(directory, topicId: id)
        #expect(log.topicId == id)
        try log.close()
        let text = String(decoding: directory.bytes("partition.metadata"), as: UTF8.self)
        #expect(text == "version: 0\ntopic_id: \(id)\n")
        #expect(try LogTest.open(directory, clean: true).topicId == id)
        let other = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 2)
        let error = #expect(throws: LogError.self) { try LogTest.open(directory, clean: true, topicId: other) }
        #expect(error?.kafkaErrorCode == .inconsistentTopicId)
    }
}
