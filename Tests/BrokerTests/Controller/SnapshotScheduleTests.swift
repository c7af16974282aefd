import MartletReplication
import Testing

@testable import MartletBroker

/// When the driver snapshots: by committed bytes, by time with something new, never with nothing new or
/// while the previous snapshot is being written.
@Suite("Snapshot schedule")
struct SnapshotScheduleTests {
    static func entry(_ offset: Int64, bytes: Int) -> LogEntry {
        LogEntry(offset: offset, epoch: 1, payload: .data([UInt8](repeating: 0, count: bytes)))
    }

    @Test("due once the committed bytes reach the limit, counting from the log start")
    func byBytes() {
        var schedule = SnapshotSchedule(maxBytes: 100, maxIntervalMs: 0, logStartOffset: 5, nowMs: 0)
        schedule.count(Self.entry(5, bytes: 60))
        #expect(!schedule.isDue(nowMs: .max))
        schedule.count(Self.entry(6, bytes: 40))
        #expect(schedule.isDue(nowMs: 0))
        schedule.started(nowMs: 10)
        #expect(schedule.countedEnd == 7 && schedule.bytesSinceSnapshot == 0)
    }

    @Test("never due while a snapshot is being written, and counting goes on meanwhile")
    func oneAtATime() {
        var schedule = SnapshotSchedule(maxBytes: 10, maxIntervalMs: 0, logStartOffset: 0, nowMs: 0)
        schedule.count(Self.entry(0, bytes: 10))
        schedule.started(nowMs: 0)
        schedule.count(Self.entry(1, bytes: 10))
        #expect(schedule.isWriting && !schedule.isDue(nowMs: 0))
        schedule.finished()
        #expect(schedule.isDue(nowMs: 0))
    }

    @Test("due once the interval has passed since the last snapshot, only with something new committed")
    func byTime() {
        var schedule = SnapshotSchedule(maxBytes: .max, maxIntervalMs: 1000, logStartOffset: 0, nowMs: 0)
        #expect(!schedule.isDue(nowMs: 5000))
        schedule.count(Self.entry(0, bytes: 1))
        #expect(!schedule.isDue(nowMs: 999))
        #expect(schedule.isDue(nowMs: 1000))
    }

    @Test("a snapshot installed past what was counted moves counting to its end")
    func installed() {
        var schedule = SnapshotSchedule(maxBytes: 10, maxIntervalMs: 0, logStartOffset: 0, nowMs: 0)
        schedule.count(Self.entry(0, bytes: 5))
        schedule.restart(at: 40, nowMs: 1)
        #expect(schedule.countedEnd == 40 && schedule.bytesSinceSnapshot == 0)
    }
}
