import MartletProtocol

/// Rebuilds a partition's idempotent-producer state at start-up: the newest producer snapshot at or below
/// the recovered log end, then every batch after it replayed from the log (batch headers carry producer id,
/// epoch and sequences), so retries after a restart are still recognised.
enum ProducerStateRecovery {
    /// Bytes read from the log per step of the replay.
    static let chunkBytes = 1 << 20

    static func recover(log: PartitionLog) throws -> ProducerStateTable {
        let loaded = ProducerSnapshotFile.loadLatest(directory: log.directory, atOrBelow: log.logEndOffset)
        var table = loaded?.table ?? ProducerStateTable()
        var offset = max(loaded?.offset ?? log.logStartOffset, log.logStartOffset)
        while offset < log.logEndOffset {
            let read = try log.read(from: offset, maxBytes: chunkBytes, upTo: log.logEndOffset, minOneBatch: true)
            guard !read.isEmpty else { break }
            var batches = RecordBatchSequence(try read.readBytes()).makeIterator()
            while let batch = batches.next() {
                let header = try RecordBatchHeader(from: batch)
                offset = header.nextOffset
                guard header.producerId >= 0, !header.attributes.isControl else { continue }
                table.record(producerId: header.producerId, epoch: header.producerEpoch, batch: .init(
                    firstSequence: header.baseSequence, lastSequence: header.lastSequence,
                    firstOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp))
            }
            offset = max(offset, read.nextOffset)
        }
        return table
    }
}
