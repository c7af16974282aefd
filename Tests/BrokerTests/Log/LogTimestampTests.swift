import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

@Suite("PartitionLog timestamp lookups (ListOffsets)")
struct LogTimestampTests {
    /// 30 batches of 3 records; batch i has timestamps t0 + 100 i + {0, 1, 2}, with one batch out of
    /// order (batch 20 is older) and one compressed.
    static func makeLog(_ directory: TemporaryLogDirectory) throws -> PartitionLog {
        let log = try LogTest.open(directory)
        for index in 0..<30 {
            let base = index == 20 ? LogTest.t0 + 50 : LogTest.t0 + Int64(index) * 100
            let compression: CompressionCodec = index == 12 ? .gzip : .none
            try log.appendAsLeader(
                LogTest.batch(timestamp: base, compression: compression, tag: index), leaderEpoch: index < 15 ? 1 : 2, now: LogTest.t0)
        }
        return log
    }

    @Test("offset(forTimestamp:) finds the first record at or after the timestamp")
    func offsetForTimestamp() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try Self.makeLog(directory)
        #expect(log.segmentBaseOffsets.count > 3)

        // Expected answers by brute force over the records.
        var records: [(offset: Int64, timestamp: Int64)] = []
        for index in 0..<30 {
            let base = index == 20 ? LogTest.t0 + 50 : LogTest.t0 + Int64(index) * 100
            for record in 0..<3 { records.append((Int64(index * 3 + record), base + Int64(record))) }
        }
        for target in stride(from: LogTest.t0 - 10, through: LogTest.t0 + 2_905, by: 7) + [LogTest.t0 + 1201, LogTest.t0 + 2902] {
            let expected = records.first { $0.timestamp >= target }
            let found = try log.offset(forTimestamp: target)
            #expect(found?.offset == expected?.offset, "target \(target - LogTest.t0)")
            #expect(found?.timestamp == expected?.timestamp)
            if let found { #expect(found.leaderEpoch == (found.offset < 45 ? 1 : 2)) }
        }
        // Past the newest record: nil.
        #expect(try log.offset(forTimestamp: LogTest.t0 + 2_903) == nil)
        // Below the log start offset records are not returned.
        try log.deleteRecords(before: 31)
        #expect(try log.offset(forTimestamp: LogTest.t0)?.offset == 31)
    }

    @Test("latestTimestampOffset() finds the record with the largest timestamp")
    func latestTimestamp() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let empty = try LogTest.open(directory)
        #expect(try empty.latestTimestampOffset() == nil)
        try empty.close()
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700))
        try LogTest.fill(log, batches: 5)
        // A batch whose largest timestamp is its first record.
        try log.appendAsLeader(
            LogTest.batch(timestamps: [LogTest.t0 + 9_000, LogTest.t0 + 10, LogTest.t0 + 20]), leaderEpoch: 4, now: LogTest.t0)
        try LogTest.fill(log, batches: 5)
        #expect(try log.latestTimestampOffset() == TimestampAndOffset(timestamp: LogTest.t0 + 9_000, offset: 15, leaderEpoch: 4))
        try log.close()
        let reopened = try LogTest.open(directory, config: LogTest.config(segmentBytes: 700), recoveryPoint: 33, clean: true)
        #expect(try reopened.latestTimestampOffset()?.offset == 15)
    }

    @Test("the time index keeps the running maximum and survives a rebuild")
    func timeIndexContents() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try Self.makeLog(directory)
        for base in log.segmentBaseOffsets {
            let segment = log.segments[log.segmentIndex(for: base)!]
            let index = segment.timeIndex
            var previous: (timestamp: Int64, offset: Int64)?
            for slot in 0..<index.entries {
                let entry = index.entry(slot)
                if let previous { #expect(entry.timestamp > previous.timestamp && entry.offset >= previous.offset) }
                previous = entry
            }
        }
        try log.close()
        let reopened = try LogTest.open(directory, recoveryPoint: 0)
        #expect(try reopened.offset(forTimestamp: LogTest.t0 + 1_250)?.offset == 39)
    }
}
