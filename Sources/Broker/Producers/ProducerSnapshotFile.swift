import Foundation
import MartletProtocol
import NIOCore

/// Kafka's producer snapshot files, `<20-digit offset>.snapshot` in a partition directory: int16 version 1,
/// uint32 CRC-32C of what follows, then the producer entries (`ProducerSnapshot.json`). The offset in the
/// name is the log end offset the state was taken at; on restart the state is loaded from the newest one
/// and the batches after it are replayed.
enum ProducerSnapshotFile {
    static let suffix = ".snapshot"

    static func name(offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func encode(_ table: ProducerStateTable) throws -> ByteBuffer {
        let snapshot = table.snapshot()
        var entries = ByteBuffer()
        try snapshot.encode(into: &entries, version: 1)
        entries.moveReaderIndex(forwardBy: 4)  // the Crc field, filled in below
        var file = ByteBuffer()
        file.writeInteger(Int16(1))
        file.writeInteger(CRC32C.checksum(entries))
        file.writeImmutableBuffer(entries)
        return file
    }

    static func decode(_ bytes: ByteBuffer) throws -> ProducerStateTable {
        var buffer = bytes
        guard try buffer.readKafkaInt16("ProducerSnapshot.Version") == 1 else {
            throw KafkaWireError(.unencodable("unsupported producer snapshot version"), fieldName: "ProducerSnapshot.Version")
        }
        let crc = try buffer.readKafkaUInt32("ProducerSnapshot.Crc")
        guard CRC32C.checksum(buffer) == crc else {
            throw KafkaWireError(.unencodable("producer snapshot CRC mismatch"), fieldName: "ProducerSnapshot.Crc")
        }
        var withCrc = ByteBuffer()
        withCrc.writeInteger(crc)
        withCrc.writeImmutableBuffer(buffer)
        return ProducerStateTable(snapshot: try ProducerSnapshot(from: &withCrc, version: 1))
    }

    /// The newest snapshot at or below `limit` in `directory`, with its offset; older and newer ones are
    /// removed (newer ones describe data a recovery truncated away).
    static func loadLatest(directory: String, atOrBelow limit: Int64) -> (offset: Int64, table: ProducerStateTable)? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let offsets = files.filter { $0.hasSuffix(suffix) }.compactMap { Int64($0.dropLast(suffix.count)) }.sorted(by: >)
        var found: (Int64, ProducerStateTable)?
        for offset in offsets {
            let path = directory + "/" + name(offset: offset)
            if found == nil, offset <= limit, let data = FileManager.default.contents(atPath: path),
               let table = try? decode(ByteBuffer(bytes: data)) {
                found = (offset, table)
                continue
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        return found
    }

    static func write(_ table: ProducerStateTable, offset: Int64, directory: String) throws {
        let bytes = try encode(table)
        try AtomicFile.write(Data(bytes.readableBytesView), to: directory + "/" + name(offset: offset))
    }
}
