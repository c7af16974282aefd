import Foundation
import Logging
import MartletProtocol
import NIOCore
import Synchronization

/// The partitions this node hosts: opens them at start-up (recovering each log), creates and deletes them
/// with their topics, applies config changes, runs retention, flushing and the log cleaner, and keeps each
/// log directory's `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` and
/// `cleaner-offset-checkpoint` up to date.
public final class ReplicaManager: Sendable {
    private let partitions = Mutex<[TopicPartition: Partition]>([:])
    /// Held across a whole check-open-insert, so two callers (an admin request and the metadata
    /// reconciler) never open one log twice.
    private let opening = Mutex<Void>(())
    /// Log directories whose clean-shutdown marker was found at start-up: their logs need no recovery scan.
    private let cleanlyShutDown: Set<String>
    private let config: BrokerConfig
    private let logger: Logger
    let appendSignal: AppendSignal

    /// Kafka's marker, written in each log directory after a clean shutdown and removed at start-up.
    static let cleanShutdownMarker = ".kafka_cleanshutdown"

    init(config: BrokerConfig, appendSignal: AppendSignal, logger: Logger) {
        self.config = config
        self.appendSignal = appendSignal
        self.logger = logger
        cleanlyShutDown = Set(config.logDirectories.filter {
            FileManager.default.fileExists(atPath: $0 + "/" + Self.cleanShutdownMarker)
        })
    }

    /// Removes the clean-shutdown markers once every partition is open: from now on a crash must be
    /// recovered from.
    func markRunning() {
        for directory in config.logDirectories {
            try? FileManager.default.removeItem(atPath: directory + "/" + Self.cleanShutdownMarker)
        }
    }

    public func partition(_ topicPartition: TopicPartition) -> Partition? {
        partitions.withLock { $0[topicPartition] }
    }

    public func allPartitions() -> [Partition] {
        partitions.withLock { Array($0.values) }
    }

    /// The settings of `topic`'s partitions, from its overrides and the broker's defaults.
    func partitionConfig(for topic: TopicMetadata) -> Partition.PartitionConfig {
        var values: [String: String] = [:]
        for resolved in config.resolveTopicConfigs(topic.configs) { values[resolved.definition.name] = resolved.value }
        func long(_ key: String) -> Int64 { values[key].flatMap { Int64($0) } ?? 0 }
        let policy = (values["cleanup.policy"] ?? "delete").split(separator: ",").map { String($0).trimmingWhitespace }
        let flushMs = long("flush.ms")
        return Partition.PartitionConfig(
            log: LogConfig(
                segmentBytes: Int(long("segment.bytes")), segmentMs: long("segment.ms"), retentionMs: long("retention.ms"),
                retentionBytes: long("retention.bytes"), flushIntervalMessages: long("flush.messages"),
                flushIntervalMs: flushMs == Int64.max ? nil : flushMs, indexIntervalBytes: Int(long("index.interval.bytes")),
                maxIndexSize: Int(long("segment.index.bytes")), messageMaxBytes: Int(long("max.message.bytes")),
                compact: policy.contains("compact"), delete: policy.contains("delete"),
                deleteRetentionMs: long("delete.retention.ms"), minCompactionLagMs: long("min.compaction.lag.ms"),
                maxCompactionLagMs: long("max.compaction.lag.ms"),
                minCleanableDirtyRatio: values["min.cleanable.dirty.ratio"].flatMap(Double.init) ?? 0.5),
            minInsyncReplicas: Int(long("min.insync.replicas")),
            logAppendTime: values["message.timestamp.type"] == "LogAppendTime",
            compact: policy.contains("compact"))
    }

    /// Opens (or creates) the partitions `indexes` of `topic` that are not open yet, in the log directory
    /// with the fewest partitions, as Kafka places new partitions. A single node hosts every partition and
    /// leads it; under the controllers a new replica follows until the metadata log makes it leader.
    func ensurePartitions(of topic: TopicMetadata, indexes: [Int32]) throws {
        try opening.withLock { _ in
            for index in indexes {
                let topicPartition = TopicPartition(topic.name, index)
                if partition(topicPartition) != nil { continue }
                let directory = existingDirectory(of: topicPartition) ?? leastLoadedDirectory()
                let opened = try open(topicPartition, topic: topic, in: directory)
                partitions.withLock { $0[topicPartition] = opened }
            }
        }
    }

    private func open(_ topicPartition: TopicPartition, topic: TopicMetadata, in directory: String) throws -> Partition {
        let checkpoints = CheckpointSet(directory: directory)
        let recoveryPoint = checkpoints.recoveryPoints[topicPartition] ?? 0
        let logStartOffset = checkpoints.logStartOffsets[topicPartition] ?? 0
        let partitionConfig = partitionConfig(for: topic)
        let log = try PartitionLog.open(
            directory: directory + "/" + topicPartition.directoryName, topic: topic.name, partition: topicPartition.partition,
            config: partitionConfig.log, recoveryPoint: recoveryPoint, logStartOffset: logStartOffset,
            hadCleanShutdown: cleanlyShutDown.contains(directory), topicId: topic.id)
        log.cleanerCheckpoint = checkpoints.cleanerOffsets[topicPartition]
        let report = log.recoveryReport
        if report.bytesTruncated > 0 || report.batchesScanned > 0 {
            logger.info("recovered \(topicPartition): \(report)")
        }
        let producers = try ProducerStateRecovery.recover(log: log)
        return Partition(
            topicPartition: topicPartition, topicId: topic.id, logDirectory: directory, log: log, config: partitionConfig,
            producers: producers, appendSignal: appendSignal, isLeader: !config.isClusterBroker, logger: logger)
    }

    private func existingDirectory(of topicPartition: TopicPartition) -> String? {
        config.logDirectories.first { FileManager.default.fileExists(atPath: $0 + "/" + topicPartition.directoryName) }
    }

    private func leastLoadedDirectory() -> String {
        let counts = partitions.withLock { partitions in
            Dictionary(grouping: partitions.values, by: \.logDirectory).mapValues(\.count)
        }
        return config.logDirectories.min { counts[$0, default: 0] < counts[$1, default: 0] }!
    }

    /// Deletes the partition directories the metadata log does not place here (Kafka's stray logs): under
    /// the controllers, replicas of topics deleted while this broker was down, or deleted and created again
    /// under the same name (their `partition.metadata` names the old topic id). `hosted` is every replica
    /// the metadata places on this broker, with its topic id; a directory that failed to open but is
    /// hosted is kept. Only directories holding Kafka's `partition.metadata` count as partitions, and the
    /// metadata log's own is kept. Runs under the opening lock, and open partitions are kept too: one the
    /// reconciler opened after `hosted` was taken is not stray.
    func deleteStrayLogs(hosted: [TopicPartition: KafkaUUID]) {
        let hostedDirectories = Dictionary(uniqueKeysWithValues: hosted.map { ($0.key.directoryName, $0.value) })
        opening.withLock { _ in
            let open = Set(allPartitions().map { FileIO.join($0.logDirectory, $0.topicPartition.directoryName) })
            for directory in config.logDirectories {
                for name in (try? FileIO.list(directory)) ?? [] where name != MetadataLog.directoryName {
                    let path = FileIO.join(directory, name)
                    guard !open.contains(path), let topicId = try? PartitionMetadataFile(partitionDirectory: path).read(),
                        hostedDirectories[name] != topicId
                    else { continue }
                    logger.warning("deleting stray log \(path): the metadata log places no replica of topic \(topicId) here")
                    do {
                        try FileManager.default.removeItem(atPath: path)
                    } catch {
                        logger.error("cannot delete stray log \(path): \(error)")
                    }
                }
            }
        }
    }

    /// Closes and deletes every partition of `topic`.
    func removePartitions(of topic: String) async {
        let removed = partitions.withLock { partitions -> [Partition] in
            let keys = partitions.keys.filter { $0.topic == topic }
            return keys.compactMap { partitions.removeValue(forKey: $0) }
        }
        for partition in removed { await partition.delete() }
        await writeCheckpoints()
    }

    func reconfigure(_ topic: TopicMetadata) async {
        let config = partitionConfig(for: topic)
        for partition in allPartitions() where partition.topicPartition.topic == topic.name {
            await partition.reconfigure(config)
        }
    }

    /// Retention and time-based flushing, every `log.retention.check.interval.ms` (at most 30 s apart, so
    /// that `log.flush.interval.ms` is honoured within that), until cancelled.
    func runMaintenance() async {
        let interval = Duration.milliseconds(max(100, min(config.logRetentionCheckIntervalMs, 30_000)))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = SystemLogClock().milliseconds()
            for partition in allPartitions() {
                await partition.maintain(now: now)
            }
            await writeCheckpoints()
        }
    }

    /// The log cleaner: every `log.cleaner.backoff.ms`, one pass over each compacted partition that is
    /// dirty enough, then the cleaner checkpoints, until cancelled.
    func runCleaner() async {
        let interval = Duration.milliseconds(max(10, config.logCleanerBackoffMs))
        let mapBytes = Int(clamping: config.logCleanerDedupeBufferSize)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            var cleaned = false
            for partition in allPartitions() {
                let now = SystemLogClock().milliseconds()
                guard let result = await partition.cleanIfDue(now: now, maxOffsetMapBytes: mapBytes, maxDirtyBytes: Self.maximumDirtyBytesPerPass) else { continue }
                cleaned = true
                logger.info("cleaned \(partition.topicPartition) up to \(result.cleanedUpTo): \(result.recordsRetained) of \(result.recordsRead) records kept, \(result.tombstonesRemoved) tombstone(s) removed, \(result.bytesRead) -> \(result.bytesWritten) bytes in \(Double(result.durationNanoseconds) / 1e6) ms")
            }
            if cleaned { await writeCheckpoints() }
        }
    }

    /// How much of a dirty log one cleaning pass maps, so a partition's appends never wait long for the
    /// cleaner; the next pass goes on where this one stopped.
    static let maximumDirtyBytesPerPass: Int64 = 256 << 20

    /// Writes each log directory's checkpoint files from the open partitions.
    func writeCheckpoints() async {
        await writeCheckpoints(of: allPartitions(), markingCleanShutdown: false)
    }

    /// Flushes and closes every partition, then records the recovery points: a clean restart scans nothing.
    func shutdown() async {
        let all = partitions.withLock { partitions -> [Partition] in
            defer { partitions.removeAll() }
            return Array(partitions.values)
        }
        for partition in all { await partition.close() }
        await writeCheckpoints(of: all, markingCleanShutdown: true)
    }

    /// Writes every log directory's checkpoints from `partitions`, and the clean-shutdown marker after them
    /// when asked.
    private func writeCheckpoints(of partitions: [Partition], markingCleanShutdown: Bool) async {
        var sets: [String: CheckpointSet] = [:]
        for partition in partitions {
            let topicPartition = partition.topicPartition
            sets[partition.logDirectory, default: CheckpointSet()].recoveryPoints[topicPartition] = await partition.recoveryPoint
            sets[partition.logDirectory, default: CheckpointSet()].logStartOffsets[topicPartition] = await partition.logStartOffset
            sets[partition.logDirectory, default: CheckpointSet()].cleanerOffsets[topicPartition] = await partition.cleanerCheckpoint
        }
        for directory in config.logDirectories {
            do {
                try (sets[directory] ?? CheckpointSet()).write(directory: directory)
                if markingCleanShutdown { try AtomicFile.write(Data(), to: directory + "/" + Self.cleanShutdownMarker) }
            } catch {
                logger.error("cannot write the checkpoints of \(directory): \(error)")
            }
        }
    }
}
