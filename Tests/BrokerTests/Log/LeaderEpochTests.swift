import MartletProtocol
import NIOCore
import Testing

@testable import MartletBroker

@Suite("Leader epoch cache")
struct LeaderEpochTests {
    @Test("endOffset(forLeaderEpoch:) follows Kafka's LeaderEpochFileCache.endOffsetFor")
    func endOffsetSemantics() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory, config: LogTest.config(segmentBytes: 1 << 20))
        try LogTest.fill(log, batches: 2, epoch: 2)  // 0..5
        try LogTest.fill(log, batches: 1, epoch: 2)  // 6..8, same epoch: no new entry
        try LogTest.fill(log, batches: 2, epoch: 5)  // 9..14
        try LogTest.fill(log, batches: 1, epoch: 7)  // 15..17
        #expect(log.leaderEpochEntries.map(\.description) == ["2@0", "5@9", "7@15"])
        #expect(log.endOffset(forLeaderEpoch: 7) == (7, 18))  // latest: the log end offset
        #expect(log.endOffset(forLeaderEpoch: 5) == (5, 15))
        #expect(log.endOffset(forLeaderEpoch: 6) == (5, 15))  // unknown in between: the epoch before
        #expect(log.endOffset(forLeaderEpoch: 2) == (2, 9))
        #expect(log.endOffset(forLeaderEpoch: 1) == (1, 0))  // below all: the first start offset
        #expect(log.endOffset(forLeaderEpoch: 8) == (-1, -1))  // above all
        #expect(log.endOffset(forLeaderEpoch: -1) == (-1, -1))
        #expect(log.leaderEpoch(forOffset: 10) == 5 && log.leaderEpoch(forOffset: 0) == 2)

        // Persisted in Kafka's format and reloaded.
        let text = String(decoding: directory.bytes("leader-epoch-checkpoint"), as: UTF8.self)
        #expect(text == "0\n3\n2 0\n5 9\n7 15\n")
        try log.close()
        let reopened = try LogTest.open(directory, config: LogTest.config(segmentBytes: 1 << 20), recoveryPoint: 18, clean: true)
        #expect(reopened.leaderEpochEntries.map(\.description) == ["2@0", "5@9", "7@15"])

        // A new leader registers its epoch before appending.
        try reopened.assignEpochStartOffset(epoch: 9, startOffset: 18)
        #expect(reopened.endOffset(forLeaderEpoch: 7) == (7, 18))
        #expect(reopened.endOffset(forLeaderEpoch: 9) == (9, 18))
    }

    @Test("a lost checkpoint is rebuilt from the batches by recovery; truncation drops epochs")
    func rebuiltByRecovery() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let log = try LogTest.open(directory)
        try LogTest.fill(log, batches: 10, epoch: 1)
        try LogTest.fill(log, batches: 10, epoch: 3)
        try log.close()
        try FileIO.unlink(directory.file("leader-epoch-checkpoint"))
        let reopened = try LogTest.open(directory, recoveryPoint: 0)
        #expect(reopened.leaderEpochEntries.map(\.description) == ["1@0", "3@30"])
        #expect(FileIO.exists(directory.file("leader-epoch-checkpoint")))
        try reopened.truncate(to: 30)
        #expect(reopened.leaderEpochEntries.map(\.description) == ["1@0"])
        try reopened.close()
        #expect(String(decoding: directory.bytes("leader-epoch-checkpoint"), as: UTF8.self) == "0\n1\n1 0\n")
    }

    @Test("cache rules: assign removes conflicting entries, truncateFromStart keeps the epoch in force")
    func cacheRules() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let path = directory.path + "/leader-epoch-checkpoint"
        let cache = try LeaderEpochCache(path: path)
        try cache.assign(epoch: 1, startOffset: 0)
        try cache.assign(epoch: 2, startOffset: 10)
        try cache.assign(epoch: 2, startOffset: 12)  // same epoch, later start: ignored
        try cache.assign(epoch: 4, startOffset: 20)
        #expect(cache.entries.map(\.description) == ["1@0", "2@10", "4@20"])
        try cache.assign(epoch: 3, startOffset: 15)  // an older epoch: entries from epoch 4 go
        #expect(cache.entries.map(\.description) == ["1@0", "2@10", "3@15"])
        try cache.assign(epoch: 5, startOffset: 12)  // an earlier start: entries starting at or after it go
        #expect(cache.entries.map(\.description) == ["1@0", "2@10", "5@12"])
        try cache.truncateFromStart(11)
        #expect(cache.entries.map(\.description) == ["2@11", "5@12"])
        try cache.truncateFromEnd(12)
        #expect(cache.entries.map(\.description) == ["2@11"])
        #expect(try LeaderEpochCache(path: path).entries == cache.entries)

        try FileIO.writeAtomically("0\n2\n1 0\n", to: path)
        #expect(throws: LogError.self) { try LeaderEpochCache(path: path) }
    }
}
