import MartletProtocol

/// Idempotent-producer state of one partition: per producer id, its epoch and the metadata of its last
/// five batches (Kafka's `NUM_BATCHES_TO_RETAIN`), enough to recognise a retried batch and to spot a gap.
///
/// A value type: `check` decides, `record` applies, so the rules are testable without a log.
public struct ProducerStateTable: Sendable, Equatable {
    public static let retainedBatches = 5

    public struct Batch: Sendable, Equatable {
        public var firstSequence: Int32
        public var lastSequence: Int32
        public var firstOffset: Int64
        public var lastOffset: Int64
        public var maxTimestamp: Int64
    }

    public struct Entry: Sendable, Equatable {
        public var epoch: Int16
        /// Oldest first, at most `retainedBatches`.
        public var batches: [Batch]
    }

    public enum Decision: Equatable, Sendable {
        /// A new batch in order: append it.
        case append
        /// A retry of a batch already in the log: answer with its original offsets, append nothing.
        case duplicate(Batch)
        /// Refused, with the error the partition answers.
        case reject(KafkaErrorCode, String)
    }

    public private(set) var entries: [Int64: Entry] = [:]

    public init() {}

    static func next(_ sequence: Int32) -> Int32 { sequence == Int32.max ? 0 : sequence + 1 }

    /// What to do with a batch from `producerId` at `epoch` carrying sequences `firstSequence...lastSequence`.
    public func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) -> Decision {
        guard let entry = entries[producerId] else {
            return firstSequence == 0
                ? .append
                : .reject(.outOfOrderSequenceNumber, "Out of order sequence number for producer \(producerId): found \(firstSequence) with no earlier batch (expected 0)")
        }
        if epoch < entry.epoch {
            return .reject(.invalidProducerEpoch, "Producer's epoch \(epoch) is older than the current epoch \(entry.epoch) for producer \(producerId)")
        }
        if epoch > entry.epoch {
            return firstSequence == 0
                ? .append
                : .reject(.outOfOrderSequenceNumber, "Invalid sequence number for new epoch \(epoch) of producer \(producerId): \(firstSequence) (expected 0)")
        }
        if let duplicate = entry.batches.first(where: { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }) {
            return .duplicate(duplicate)
        }
        guard let last = entry.batches.last else { return .append }
        let expected = Self.next(last.lastSequence)
        return firstSequence == expected
            ? .append
            : .reject(.outOfOrderSequenceNumber, "Out of order sequence number for producer \(producerId) at offset \(last.lastOffset + 1): \(firstSequence) (incoming seq. number), \(last.lastSequence) (current end sequence number)")
    }

    /// Records an appended batch.
    public mutating func record(producerId: Int64, epoch: Int16, batch: Batch) {
        var entry = entries[producerId] ?? Entry(epoch: epoch, batches: [])
        if epoch != entry.epoch {
            entry = Entry(epoch: epoch, batches: [])
        }
        entry.batches.append(batch)
        if entry.batches.count > Self.retainedBatches { entry.batches.removeFirst(entry.batches.count - Self.retainedBatches) }
        entries[producerId] = entry
    }

    /// Forgets batches at or after `offset` (log truncation): a producer whose batches all go is forgotten.
    public mutating func truncate(from offset: Int64) {
        for (producerId, var entry) in entries {
            entry.batches.removeAll { $0.lastOffset >= offset }
            entries[producerId] = entry.batches.isEmpty ? nil : entry
        }
    }

    /// The state as Kafka's producer snapshot (`ProducerSnapshot.json`): the last batch of each producer.
    public func snapshot() -> ProducerSnapshot {
        let producers = entries.sorted { $0.key < $1.key }.compactMap { producerId, entry -> ProducerSnapshot.ProducerEntry? in
            guard let last = entry.batches.last else { return nil }
            return .init(
                producerId: producerId, epoch: entry.epoch, lastSequence: last.lastSequence, lastOffset: last.lastOffset,
                offsetDelta: Int32(truncatingIfNeeded: last.lastOffset - last.firstOffset), timestamp: last.maxTimestamp,
                coordinatorEpoch: -1, currentTxnFirstOffset: -1)
        }
        return ProducerSnapshot(crc: 0, producerEntries: producers)
    }

    public init(snapshot: ProducerSnapshot) {
        for producer in snapshot.producerEntries {
            let firstSequence = producer.lastSequence - producer.offsetDelta
            entries[producer.producerId] = Entry(epoch: producer.epoch, batches: [Batch(
                firstSequence: firstSequence < 0 ? firstSequence &+ Int32.max &+ 1 : firstSequence,
                lastSequence: producer.lastSequence,
                firstOffset: producer.lastOffset - Int64(producer.offsetDelta), lastOffset: producer.lastOffset,
                maxTimestamp: producer.timestamp)])
        }
    }
}
