import Foundation
import Logging
import MartletProtocol
import NIOCore

/// One partition this node hosts: its log, its idempotent-producer state and its offsets. An actor, so
/// that appends and reads of one partition are serialised without locks; every call is per request
/// (a batch, a fetch), never per record.
public actor Partition {
    public nonisolated let topicPartition: TopicPartition
    public nonisolated let topicId: KafkaUUID
    public nonisolated let logDirectory: String
    private let log: PartitionLog
    private var config: PartitionConfig
    private var producers: ProducerStateTable
    private let appendSignal: AppendSignal
    private let logger: Logger
    /// A single node leads every partition from epoch 0; under the controllers the metadata log says who
    /// leads in which epoch (`applyLeadership`).
    public private(set) var leaderEpoch: Int32 = 0
    /// Whether this replica serves produce and fetch. A replica the metadata log names a follower answers
    /// NOT_LEADER_OR_FOLLOWER, so clients refresh their metadata and go to the leader.
    public private(set) var isLeader: Bool
    private var unflushedMessages: Int64 = 0
    private var lastFlushMs: Int64

    /// The settings of a partition, resolved from topic and broker config.
    public struct PartitionConfig: Sendable {
        public var log: LogConfig
        public var minInsyncReplicas: Int
        public var logAppendTime: Bool
        public var compact: Bool
    }

    public struct Offsets: Sendable {
        public var logStartOffset: Int64
        public var highWatermark: Int64
        public var logEndOffset: Int64
    }

    public struct Appended: Sendable {
        public var baseOffset: Int64
        public var logAppendTime: Int64
        public var logStartOffset: Int64
    }

    public struct Read: Sendable {
        /// The records as slices of the segment files, for sendfile.
        public var records: LogReadResult
        public var highWatermark: Int64
        public var lastStableOffset: Int64
        public var logStartOffset: Int64
    }

    init(
        topicPartition: TopicPartition, topicId: KafkaUUID, logDirectory: String, log: PartitionLog, config: PartitionConfig,
        producers: ProducerStateTable, appendSignal: AppendSignal, isLeader: Bool, logger: Logger
    ) {
        self.isLeader = isLeader
        self.topicPartition = topicPartition
        self.topicId = topicId
        self.logDirectory = logDirectory
        self.log = log
        self.config = config
        self.producers = producers
        self.appendSignal = appendSignal
        self.logger = logger
        lastFlushMs = SystemLogClock().milliseconds()
    }

    /// On one node every appended record is replicated to the whole ISR (itself) at once: the high
    /// watermark is the log end offset.
    public var offsets: Offsets {
        Offsets(logStartOffset: log.logStartOffset, highWatermark: log.logEndOffset, logEndOffset: log.logEndOffset)
    }

    public var sizeInBytes: Int64 { Int64(log.size) }

    /// FENCED_LEADER_EPOCH for a client that knows an older leader, UNKNOWN_LEADER_EPOCH for a newer one;
    /// -1 means the client does not check.
    /// A client that checks the epoch hears about it first, as from Kafka; then a follower refuses.
    public func checkLeaderEpoch(_ epoch: Int32) -> KafkaErrorCode? {
        if epoch != -1 && epoch != leaderEpoch {
            return epoch < leaderEpoch ? .fencedLeaderEpoch : .unknownLeaderEpoch
        }
        return isLeader ? nil : .notLeaderOrFollower
    }

    /// Takes the leadership the metadata log records for this replica.
    func applyLeadership(isLeader: Bool, leaderEpoch: Int32) {
        if isLeader != self.isLeader || leaderEpoch != self.leaderEpoch {
            logger.info("\(topicPartition): \(isLeader ? "leader" : "follower") in leader epoch \(leaderEpoch)")
        }
        self.isLeader = isLeader
        self.leaderEpoch = leaderEpoch
    }

    func reconfigure(_ config: PartitionConfig) {
        self.config = config
        log.config = config.log
    }

    /// Appends a producer's batch: size and CRC checked, a retried idempotent batch answered with its
    /// original offset instead of being written twice, offsets assigned by the log.
    public func appendRecords(_ records: ByteBuffer, requiredAcks: Int16, now: Int64) throws(BrokerError) -> Appended {
        guard isLeader else {
            throw BrokerError(.notLeaderOrFollower, "This server is not the leader for partition \(topicPartition).")
        }
        if requiredAcks == -1 && config.minInsyncReplicas > 1 {
            throw BrokerError(.notEnoughReplicas, "The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of \(config.minInsyncReplicas) for partition \(topicPartition)")
        }
        let header: RecordBatchHeader
        do {
            var batches = RecordBatchSequence(records).makeIterator()
            guard let batch = try batches.nextBatch() else {
                throw BrokerError(.corruptMessage, "the records of \(topicPartition) hold no whole batch")
            }
            guard batches.remaining.readableBytes == 0 else {
                throw BrokerError(.invalidRecord, "Produce requests must contain exactly one record batch per partition")
            }
            guard batch.readableBytes <= config.log.messageMaxBytes else {
                throw BrokerError(.messageTooLarge, "The request included a message larger than the max message size the server will accept (\(batch.readableBytes) > \(config.log.messageMaxBytes))")
            }
            header = try RecordBatch.validate(batch, mode: .produce)
            if config.compact, try PartitionLog.firstRecordWithoutKey(in: batch, maximumUncompressedSize: config.log.messageMaxBytes * 64) != nil {
                throw BrokerError(.invalidRecord, PartitionLog.missingKeyMessage(topic: topicPartition.topic, partition: topicPartition.partition))
            }
        } catch let error as BrokerError {
            throw error
        } catch let error as RecordBatchError {
            throw BrokerError(KafkaErrorCode(rawValue: error.kafkaErrorCode) ?? .corruptMessage, error.description)
        } catch {
            throw BrokerError(.corruptMessage, "\(error)")
        }

        let idempotent = header.producerId >= 0
        if idempotent {
            switch producers.check(
                producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence,
                lastSequence: header.lastSequence)
            {
            case .append:
                break
            case .duplicate(let earlier):
                return Appended(baseOffset: earlier.firstOffset, logAppendTime: -1, logStartOffset: log.logStartOffset)
            case .reject(let code, let message):
                throw BrokerError(code, message)
            }
        }

        var batch = records
        if config.logAppendTime {
            RecordBatch.setLogAppendTime(now, in: &batch, at: batch.readerIndex)
        }
        let result: AppendResult
        do {
            result = try log.appendAsLeader(batch, leaderEpoch: leaderEpoch, now: now)
        } catch {
            throw BrokerError(error.kafkaErrorCode, error.description)
        }
        if idempotent {
            producers.record(producerId: header.producerId, epoch: header.producerEpoch, batch: .init(
                firstSequence: header.baseSequence, lastSequence: header.lastSequence,
                firstOffset: result.firstOffset, lastOffset: result.lastOffset, maxTimestamp: result.maxTimestamp))
        }
        unflushedMessages += Int64(header.recordsCount)
        try flushIfDue(now: now)
        appendSignal.notify()
        return Appended(
            baseOffset: result.firstOffset, logAppendTime: config.logAppendTime ? now : -1, logStartOffset: log.logStartOffset)
    }

    /// Reads from `offset`: the whole batch holding it first, then whole batches up to `maxBytes`.
    public func read(
        from offset: Int64, maxBytes: Int, minOneBatch: Bool, currentLeaderEpoch: Int32, readCommitted: Bool
    ) throws(BrokerError) -> Read {
        if let problem = checkLeaderEpoch(currentLeaderEpoch) {
            throw BrokerError(problem, "leader epoch \(currentLeaderEpoch) does not match \(leaderEpoch)")
        }
        let highWatermark = log.logEndOffset
        do {
            let read = try log.read(from: offset, maxBytes: maxBytes, upTo: highWatermark, minOneBatch: minOneBatch)
            return Read(records: read, highWatermark: highWatermark, lastStableOffset: highWatermark, logStartOffset: log.logStartOffset)
        } catch {
            throw BrokerError(error.kafkaErrorCode, error.description)
        }
    }

    /// ListOffsets by timestamp: the first record at or after `timestamp`, nil past the end.
    public func offset(forTimestamp timestamp: Int64) throws(BrokerError) -> TimestampAndOffset? {
        do {
            return try log.offset(forTimestamp: timestamp)
        } catch {
            throw BrokerError(error.kafkaErrorCode, error.description)
        }
    }

    /// ListOffsets MAX_TIMESTAMP: the record with the largest timestamp.
    public func maxTimestampOffset() throws(BrokerError) -> TimestampAndOffset? {
        do {
            return try log.latestTimestampOffset()
        } catch {
            throw BrokerError(error.kafkaErrorCode, error.description)
        }
    }

    public func endOffset(forLeaderEpoch epoch: Int32) -> (leaderEpoch: Int32, endOffset: Int64) {
        log.endOffset(forLeaderEpoch: epoch)
    }

    /// DeleteRecords: -1 means up to the high watermark. Returns the new log start offset.
    public func deleteRecords(before offset: Int64) throws(BrokerError) -> Int64 {
        guard isLeader else {
            throw BrokerError(.notLeaderOrFollower, "This server is not the leader for partition \(topicPartition).")
        }
        let target = offset == -1 ? log.logEndOffset : offset
        guard target >= 0, target <= log.logEndOffset else {
            throw BrokerError(.offsetOutOfRange, "Cannot increment the log start offset to \(offset) of partition \(topicPartition) since it is larger than the high watermark \(log.logEndOffset)")
        }
        do {
            try log.deleteRecords(before: target)
        } catch {
            throw BrokerError(error.kafkaErrorCode, error.description)
        }
        return log.logStartOffset
    }

    /// Periodic upkeep: deletes segments past retention, and flushes when `flush.ms` has passed since the
    /// last flush even without new appends.
    func maintain(now: Int64) {
        do {
            try log.applyRetention(now: now)
            if unflushedMessages > 0 { try flushIfDue(now: now) }
        } catch {
            logger.error("maintenance of \(topicPartition) failed: \(error)")
        }
    }

    /// One pass of the log cleaner if this compacted log is dirty enough; nil if none was due or it
    /// failed (logged). Runs on this actor, so appends wait for it: `maxDirtyBytes` bounds a pass, and the
    /// next pass continues from the new cleaner checkpoint.
    func cleanIfDue(now: Int64, maxOffsetMapBytes: Int, maxDirtyBytes: Int64) -> CleaningResult? {
        let highWatermark = log.logEndOffset
        guard config.compact, log.needsCleaning(now: now, highWatermark: highWatermark) else { return nil }
        let options = CleaningOptions(
            maxOffsetMapBytes: maxOffsetMapBytes, maxDirtyBytes: maxDirtyBytes, highWatermark: highWatermark,
            producerLastOffsets: producers.entries.compactMapValues { $0.batches.last?.lastOffset })
        do {
            return try log.clean(now: now, options: options)
        } catch {
            logger.error("cleaning \(topicPartition) failed: \(error)")
            return nil
        }
    }

    /// Where the cleaner continues (`cleaner-offset-checkpoint`); nil for logs never cleaned.
    var cleanerCheckpoint: Int64? { log.cleanerCheckpoint }

    private func flushIfDue(now: Int64) throws(BrokerError) {
        let dueByCount = unflushedMessages >= config.log.flushIntervalMessages
        let dueByTime = config.log.flushIntervalMs.map { now - lastFlushMs >= $0 } ?? false
        if dueByCount || dueByTime { try flush(now: now) }
    }

    /// fsyncs the log and records the producer state at the new recovery point.
    func flush(now: Int64 = SystemLogClock().milliseconds()) throws(BrokerError) {
        do {
            try log.flush()
            try ProducerSnapshotFile.write(producers, offset: log.logEndOffset, directory: log.directory)
        } catch let error as LogError {
            throw BrokerError(error.kafkaErrorCode, error.description)
        } catch {
            throw BrokerError(.kafkaStorageError, "\(error)")
        }
        unflushedMessages = 0
        lastFlushMs = now
    }

    /// The recovery point (everything below it is on disk), for the log directory's checkpoint.
    var recoveryPoint: Int64 { log.recoveryPoint }
    var logStartOffset: Int64 { log.logStartOffset }

    /// Flushes and closes; the partition is unusable afterwards.
    func close() {
        do {
            try flush()
        } catch {
            logger.error("flush of \(topicPartition) at shutdown failed: \(error)")
        }
        do {
            try log.close()
        } catch {
            logger.error("closing \(topicPartition) failed: \(error)")
        }
    }

    /// Removes the partition's files (topic deletion).
    func delete() {
        do {
            try log.deleteAll()
        } catch {
            logger.error("deleting \(topicPartition) failed: \(error)")
        }
    }
}
