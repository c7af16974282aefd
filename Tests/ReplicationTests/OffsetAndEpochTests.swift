import Testing

@testable import MartletReplication

@Suite("OffsetAndEpoch")
struct OffsetAndEpochTests {
    @Test("a later epoch is more up-to-date than a longer log")
    func upToDate() {
        #expect(OffsetAndEpoch(offset: 1, epoch: 3).isAtLeastAsUpToDate(as: OffsetAndEpoch(offset: 10, epoch: 2)))
        #expect(!OffsetAndEpoch(offset: 9, epoch: 2).isAtLeastAsUpToDate(as: OffsetAndEpoch(offset: 10, epoch: 2)))
        #expect(OffsetAndEpoch(offset: 10, epoch: 2).isAtLeastAsUpToDate(as: OffsetAndEpoch(offset: 10, epoch: 2)))
    }
}
