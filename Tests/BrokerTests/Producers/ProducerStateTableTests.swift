@testable import MartletBroker
import MartletProtocol
import Testing

@Suite struct ProducerStateTableTests {
    private func batch(_ first: Int32, _ last: Int32, at offset: Int64) -> ProducerStateTable.Batch {
        .init(firstSequence: first, lastSequence: last, firstOffset: offset, lastOffset: offset + Int64(last - first), maxTimestamp: 1)
    }

    @Test func inOrderBatchesAppendAndRetriesAreDuplicates() {
        var table = ProducerStateTable()
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 0, lastSequence: 4) == .append)
        table.record(producerId: 7, epoch: 0, batch: batch(0, 4, at: 100))
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 5, lastSequence: 9) == .append)
        table.record(producerId: 7, epoch: 0, batch: batch(5, 9, at: 105))
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 0, lastSequence: 4) == .duplicate(batch(0, 4, at: 100)))
        #expect(table.check(producerId: 7, epoch: 0, firstSequence: 5, lastSequence: 9) == .duplicate(batch(5, 9, at: 105)))
    }

    @Test func gapsAndStaleEpochsAreRefused() {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 3, batch: batch(0, 0, at: 0))
        if case .reject(let code, _) = table.check(producerId: 1, epoch: 3, firstSequence: 2, lastSequence: 2) {
            #expect(code == .outOfOrderSequenceNumber)
        } else {
            Issue.record("a gap must be refused")
        }
        if case .reject(let code, _) = table.check(producerId: 1, epoch: 2, firstSequence: 1, lastSequence: 1) {
            #expect(code == .invalidProducerEpoch)
        } else {
            Issue.record("an older epoch must be refused")
        }
        if case .reject(let code, _) = table.check(producerId: 99, epoch: 0, firstSequence: 3, lastSequence: 3) {
            #expect(code == .outOfOrderSequenceNumber)
        } else {
            Issue.record("an unknown producer must start at sequence 0")
        }
        #expect(table.check(producerId: 1, epoch: 4, firstSequence: 0, lastSequence: 0) == .append)
    }

    @Test func onlyTheLastFiveBatchesAreRemembered() {
        var table = ProducerStateTable()
        for index in 0..<8 {
            table.record(producerId: 5, epoch: 0, batch: batch(Int32(index), Int32(index), at: Int64(index)))
        }
        #expect(table.entries[5]?.batches.count == ProducerStateTable.retainedBatches)
        #expect(table.check(producerId: 5, epoch: 0, firstSequence: 2, lastSequence: 2) != .duplicate(batch(2, 2, at: 2)))
        #expect(table.check(producerId: 5, epoch: 0, firstSequence: 7, lastSequence: 7) == .duplicate(batch(7, 7, at: 7)))
    }

    @Test func sequencesWrapAtInt32Max() {
        var table = ProducerStateTable()
        table.record(producerId: 2, epoch: 0, batch: batch(Int32.max - 1, Int32.max, at: 10))
        #expect(table.check(producerId: 2, epoch: 0, firstSequence: 0, lastSequence: 3) == .append)
    }

    @Test func snapshotKeepsTheLastBatchOfEachProducer() throws {
        var table = ProducerStateTable()
        table.record(producerId: 1, epoch: 2, batch: batch(0, 9, at: 0))
        table.record(producerId: 1, epoch: 2, batch: batch(10, 14, at: 20))
        table.record(producerId: 8, epoch: 0, batch: batch(0, 0, at: 30))
        var bytes = try table.snapshot().encoded(version: 1)
        let restored = ProducerStateTable(snapshot: try ProducerSnapshot(from: &bytes, version: 1))
        #expect(restored.entries[1]?.epoch == 2)
        #expect(restored.entries[1]?.batches == [batch(10, 14, at: 20)])
        #expect(restored.check(producerId: 1, epoch: 2, firstSequence: 10, lastSequence: 14) == .duplicate(batch(10, 14, at: 20)))
        #expect(restored.check(producerId: 8, epoch: 0, firstSequence: 1, lastSequence: 1) == .append)
    }
}
