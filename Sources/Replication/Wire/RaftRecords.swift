import MartletProtocol
import NIOCore

/// The core's log entries as the KRaft log stores and ships them: v2 record batches whose base offset is
/// the entry's offset and whose partition leader epoch is the entry's epoch.
///
/// - An application record is a record with no key whose value is the payload (for the controller, one
///   serialized metadata record). Consecutive ones of one epoch share a batch, as a leader appending
///   several proposals at once writes them.
/// - A leader change is a control batch holding a LEADER_CHANGE control record (type 2) whose value is a
///   `LeaderChangeMessage`.
/// - A no-op is an application record whose value is a serialized `NoOpRecord` metadata record (what
///   Kafka's controller appends when idle). A `.data` payload holding exactly those bytes therefore
///   reads back as `.noOp`; both leave the metadata unchanged.
public enum RaftRecords {
    /// The most a compressed batch may inflate to when read.
    public static let maximumUncompressedBatchBytes = 64 * 1024 * 1024
    /// The payload bytes one application batch holds at most before the next batch starts.
    public static let maximumBatchPayloadBytes = 8 * 1024 * 1024

    /// The `LeaderChangeMessage` version written: Kafka's `ControlRecordUtils.LEADER_CHANGE_CURRENT_VERSION`.
    static let leaderChangeVersion: Int16 = 0

    /// A NoOpRecord as Kafka's `MetadataRecordSerde` frames it: frame version 1, record type 20, record
    /// version 0, then the (empty, flexible) record body.
    public static let noOpRecordValue: [UInt8] = {
        var buffer = ByteBuffer()
        buffer.writeUnsignedVarint(1)
        buffer.writeUnsignedVarint(UInt32(NoOpRecord.recordType))
        buffer.writeUnsignedVarint(0)
        guard let body = try? NoOpRecord().encoded(version: 0) else { preconditionFailure("NoOpRecord does not encode") }
        buffer.writeImmutableBuffer(body)
        return Array(buffer.readableBytesView)
    }()

    // MARK: Log entries

    /// `entries` as consecutive batches, with `timestamp` (the driver's wall clock) as every record's
    /// CreateTime.
    public static func batches(_ entries: [LogEntry], timestamp: Int64) -> ByteBuffer {
        var output = ByteBuffer()
        var index = entries.startIndex
        while index < entries.endIndex {
            let first = entries[index]
            if case .leaderChange(let change) = first.payload {
                var builder = RecordBatchBuilder(baseOffset: first.offset, partitionLeaderEpoch: first.epoch, isControl: true)
                builder.append(
                    timestamp: timestamp, key: ControlRecordKey(type: .leaderChange).encoded(),
                    value: encodeLeaderChange(change))
                output.writeImmutableBuffer(finish(&builder))
                index += 1
                continue
            }
            var builder = RecordBatchBuilder(baseOffset: first.offset, partitionLeaderEpoch: first.epoch)
            var payloadBytes = 0
            while index < entries.endIndex, let value = applicationValue(entries[index].payload),
                entries[index].epoch == first.epoch, entries[index].offset == first.offset + Int64(builder.recordsCount),
                builder.isEmpty || payloadBytes + value.count <= maximumBatchPayloadBytes
            {
                builder.append(timestamp: timestamp, key: nil, value: ByteBuffer(bytes: value))
                payloadBytes += value.count
                index += 1
            }
            output.writeImmutableBuffer(finish(&builder))
        }
        return output
    }

    /// Which trailing bytes `entries(from:)` accepts.
    public enum TrailingBatch: Sendable {
        /// Every byte must belong to a whole, valid batch (a log or snapshot read from disk).
        case reject
        /// A last batch cut short may be dropped if a whole batch precedes it: a Kafka leader cuts a
        /// Fetch response at its byte budget, mid-batch, and the follower fetches the rest next time.
        case ignoreIfPartial
    }

    /// The entries in `records`, a sequence of v2 batches. Fails on a bad CRC, a truncated or malformed
    /// batch, a control record the core has no entry for, or a record without a value.
    public static func entries(from records: ByteBuffer, trailing: TrailingBatch = .reject) throws(RaftWireError) -> [LogEntry] {
        var buffer = records
        var entries: [LogEntry] = []
        var batches = 0
        while buffer.readableBytes > 0 {
            let batch: RecordBatch
            do throws(RecordBatchError) {
                batch = try RecordBatch.decode(from: &buffer, maximumUncompressedSize: maximumUncompressedBatchBytes)
            } catch {
                if case .truncated = error, trailing == .ignoreIfPartial, batches > 0 { break }
                throw .invalidRecords(error)
            }
            batches += 1
            for record in batch.records {
                let offset = batch.offset(of: record)
                let epoch = batch.header.partitionLeaderEpoch
                entries.append(LogEntry(offset: offset, epoch: epoch, payload: try payload(of: record, in: batch)))
            }
        }
        return entries
    }

    private static func applicationValue(_ payload: EntryPayload) -> [UInt8]? {
        switch payload {
        case .data(let bytes): bytes
        case .noOp: noOpRecordValue
        case .leaderChange: nil
        }
    }

    private static func payload(of record: Record, in batch: RecordBatch) throws(RaftWireError) -> EntryPayload {
        guard batch.header.attributes.isControl else {
            guard let value = record.value else {
                throw .invalidField("record at offset \(batch.offset(of: record)) has no value")
            }
            let bytes = Array(value.readableBytesView)
            return bytes == noOpRecordValue ? .noOp : .data(bytes)
        }
        let type = try controlRecordType(of: record)
        guard type == .leaderChange, let value = record.value else { throw .unsupportedControlRecord(type) }
        let message = try decodeVersioned(LeaderChangeMessage.self, value)
        return .leaderChange(LeaderChange(
            leaderId: message.leaderId, voters: message.voters.map(\.voterId),
            grantingVoters: message.grantingVoters.map(\.voterId)))
    }

    private static func encodeLeaderChange(_ change: LeaderChange) -> ByteBuffer {
        let message = LeaderChangeMessage(
            version: leaderChangeVersion, leaderId: change.leaderId,
            voters: change.voters.map { LeaderChangeMessage.Voter(voterId: $0) },
            grantingVoters: change.grantingVoters.map { LeaderChangeMessage.Voter(voterId: $0) })
        guard let value = try? message.encoded(version: leaderChangeVersion) else {
            preconditionFailure("LeaderChangeMessage does not encode")
        }
        return value
    }

    // MARK: Snapshots

    /// A snapshot's contents as Kafka's `RecordsSnapshotWriter` lays them out: a control batch with a
    /// SNAPSHOT_HEADER record (type 3), the application records in batches, then a control batch with a
    /// SNAPSHOT_FOOTER record (type 4). Offsets count from 0 and every batch carries the snapshot's epoch.
    /// These are the bytes a `RaftSnapshot` holds and FetchSnapshot serves in chunks.
    public static func snapshotBytes(
        id: OffsetAndEpoch, records: [[UInt8]], lastContainedLogTimestamp: Int64, timestamp: Int64
    ) -> [UInt8] {
        var output = ByteBuffer()
        var header = RecordBatchBuilder(baseOffset: 0, partitionLeaderEpoch: id.epoch, isControl: true)
        header.append(
            timestamp: timestamp, key: ControlRecordKey(type: .snapshotHeader).encoded(),
            value: encodeControl(SnapshotHeaderRecord(version: 0, lastContainedLogTimestamp: lastContainedLogTimestamp)))
        output.writeImmutableBuffer(finish(&header))
        let entries = records.enumerated().map {
            LogEntry(offset: 1 + Int64($0.offset), epoch: id.epoch, payload: .data($0.element))
        }
        output.writeImmutableBuffer(batches(entries, timestamp: timestamp))
        var footer = RecordBatchBuilder(baseOffset: 1 + Int64(records.count), partitionLeaderEpoch: id.epoch, isControl: true)
        footer.append(
            timestamp: timestamp, key: ControlRecordKey(type: .snapshotFooter).encoded(),
            value: encodeControl(SnapshotFooterRecord(version: 0)))
        output.writeImmutableBuffer(finish(&footer))
        return Array(output.readableBytesView)
    }

    /// What a snapshot holds: its header and its application records, in order.
    public struct SnapshotContents: Hashable, Sendable {
        public var header: SnapshotHeaderRecord
        public var records: [[UInt8]]
    }

    /// Reads snapshot bytes written as `snapshotBytes` lays out (or by Kafka): the header must come
    /// first, the footer last, every byte in valid batches. KRAFT_VERSION and KRAFT_VOTERS records next to
    /// the header (a dynamic quorum's) are skipped: the core's voter set is static.
    public static func snapshotContents(_ bytes: [UInt8]) throws(RaftWireError) -> SnapshotContents {
        var buffer = ByteBuffer(bytes: bytes)
        var header: SnapshotHeaderRecord?
        var records: [[UInt8]] = []
        var sawFooter = false
        while buffer.readableBytes > 0 {
            let batch: RecordBatch
            do throws(RecordBatchError) {
                batch = try RecordBatch.decode(from: &buffer, maximumUncompressedSize: maximumUncompressedBatchBytes)
            } catch {
                throw .invalidRecords(error)
            }
            guard !sawFooter else { throw .invalidField("snapshot batch after the footer") }
            for record in batch.records {
                guard batch.header.attributes.isControl else {
                    guard header != nil else { throw .invalidField("snapshot record before the header") }
                    guard let value = record.value else { throw .invalidField("snapshot record without a value") }
                    records.append(Array(value.readableBytesView))
                    continue
                }
                let type = try controlRecordType(of: record)
                switch type {
                case .snapshotHeader where header == nil && records.isEmpty:
                    guard let value = record.value else { throw .invalidField("snapshot header without a value") }
                    header = try decodeVersioned(SnapshotHeaderRecord.self, value)
                case .kraftVersion where header != nil && records.isEmpty, .kraftVoters where header != nil && records.isEmpty:
                    continue
                case .snapshotFooter where header != nil && !sawFooter:
                    sawFooter = true
                default:
                    throw .unsupportedControlRecord(type)
                }
            }
        }
        guard let header else { throw .invalidField("snapshot without a header") }
        guard sawFooter else { throw .invalidField("snapshot without a footer") }
        return SnapshotContents(header: header, records: records)
    }

    // MARK: Helpers

    private static func controlRecordType(of record: Record) throws(RaftWireError) -> ControlRecordType {
        guard let key = record.key else { throw .invalidRecords(.invalidControlRecord("control record without a key")) }
        do throws(RecordBatchError) {
            return try ControlRecordKey(from: key).type
        } catch {
            throw .invalidRecords(error)
        }
    }

    /// Control record values start with their own int16 version: read each at the version it states
    /// (capped at the newest this build knows, whose readers skip unknown tagged fields).
    private static func decodeVersioned<M: KafkaMessage>(_ type: M.Type, _ value: ByteBuffer) throws(RaftWireError) -> M {
        guard let stated: Int16 = value.getInteger(at: value.readerIndex), stated >= 0 else {
            throw .invalidRecords(.invalidControlRecord("\(M.self) without a version"))
        }
        var buffer = value
        do throws(KafkaWireError) {
            return try M(from: &buffer, version: min(stated, M.validVersions.upperBound))
        } catch {
            throw .invalidRecords(.invalidControlRecord("\(M.self): \(error)"))
        }
    }

    private static func encodeControl<M: KafkaMessage>(_ message: M) -> ByteBuffer {
        guard let value = try? message.encoded(version: 0) else { preconditionFailure("\(M.self) does not encode") }
        return value
    }

    /// Uncompressed batches cannot fail to encode.
    private static func finish(_ builder: inout RecordBatchBuilder) -> ByteBuffer {
        guard let batch = try? builder.finish() else { preconditionFailure("uncompressed batch failed to encode") }
        return batch
    }
}
