import CCRC32C
import Foundation
import MartletProtocol
import NIOCore

/// `make bench`: the protocol layer's hot paths in a release build, each beside a baseline from this run.
///
/// - Produce: frame decode + batch validation (CRC) + re-encode of a 1 MiB Produce request of 1 KiB records,
///   against copying the same 1 MiB (the least any server must do with it).
/// - CRC-32C: the CPU instruction path against the portable table code and against memcpy.
/// - Codecs: compress and decompress 1 MiB of transaction-like records per codec, against memcpy.
print("Martlet protocol benchmarks (release build; best of 5 rounds; ratios against baselines run alongside)")
print("CRC-32C path: \(martlet_crc32c_uses_hardware() == 1 ? "CPU instruction (SSE 4.2 / ARMv8 CRC)" : "portable tables")")
print("")

let megabyte = 1 << 20

/// Transaction-like JSON values, compressible the way real payloads are.
func transactionValue(_ index: Int, size: Int) -> ByteBuffer {
    var text = #"{"id":"tx-\#(index)","merchant":"m-\#(index % 97)","amount_cents":\#((index * 7919) % 100_000),"#
        + #""currency":"EUR","card":"**** \#(1000 + index % 9000)","country":"DE","ts":\#(1_700_000_000_000 + index)"#
    while text.utf8.count < size - 2 { text += #","pad":"\#(index % 13)""# }
    text = String(text.prefix(size - 1)) + "}"
    return ByteBuffer(string: text)
}

// A 1 MiB batch of 1 KiB records, in a Produce v9 (flexible) request frame.
var builder = RecordBatchBuilder(initialCapacity: megabyte + 4096)
for index in 0..<1000 {
    builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: ByteBuffer(string: "key-\(index)"), value: transactionValue(index, size: 1024))
}
let batch = try builder.finish()
let produce = ProduceRequest(acks: -1, timeoutMs: 30_000, topicData: [.init(name: "payments", partitionData: [.init(index: 0, records: batch)])])
let header = RequestHeader(requestApiKey: ApiKey.produce.rawValue, requestApiVersion: 9, correlationId: 1, clientId: "bench")
var frameBody = ByteBuffer()
try header.encode(into: &frameBody, version: 2)
try produce.encode(into: &frameBody, version: 9)
let requestBytes = frameBody.readableBytes

var table = ResultTable()
var sink = 0

let copy = Measure.run("memcpy 1 MiB", bytes: requestBytes) {
    var destination = ByteBuffer()
    destination.reserveCapacity(requestBytes)
    destination.writeImmutableBuffer(frameBody)
    sink &+= destination.readableBytes
}
table.add(copy, baseline: nil)

let produceRoundTrip = try Measure.run("Produce 1 MiB decode+validate+encode", bytes: requestBytes) {
    guard case .request(let frame) = try KafkaRequestFrame.decode(frameBody), let request = frame.body as? ProduceRequest else {
        fatalError("benchmark request did not decode")
    }
    for topic in request.topicData {
        for partition in topic.partitionData {
            for batch in RecordBatchSequence(partition.records!) {
                sink &+= Int(try RecordBatch.validate(batch, mode: .produce).recordsCount)
            }
        }
    }
    let encoded = try request.encoded(version: 9)
    sink &+= encoded.readableBytes
}
table.add(produceRoundTrip, baseline: copy, note: "(\(requestBytes) bytes, 1000 records)")

let produceDecodeRecords = try Measure.run("Produce 1 MiB decode records", bytes: requestBytes) {
    let decoded = try RecordBatch.decode(batch, maximumUncompressedSize: 2 * megabyte)
    sink &+= decoded.records.count
}
table.add(produceDecodeRecords, baseline: copy)

let crcInput = [UInt8](repeating: 0, count: megabyte).enumerated().map { UInt8(truncatingIfNeeded: $0.offset &* 131) }
let crcHardware = crcInput.withUnsafeBytes { bytes in
    Measure.run("CRC-32C 1 MiB", bytes: megabyte) { sink &+= Int(CRC32C.checksum(bytes)) }
}
let crcPortable = crcInput.withUnsafeBytes { bytes in
    Measure.run("CRC-32C 1 MiB portable", bytes: megabyte) { sink &+= Int(martlet_crc32c_portable(0, bytes.baseAddress, bytes.count)) }
}
table.add(crcHardware, baseline: crcPortable)
table.add(crcHardware, baseline: copy)
table.add(crcPortable, baseline: copy)

var records = ByteBuffer()
for index in 0..<1024 { records.writeImmutableBuffer(transactionValue(index, size: 1024)) }
for codec in [CompressionCodec.gzip, .snappy, .lz4, .zstd] {
    let compressed = try RecordCompression.compress(records, codec: codec)
    let ratio = String(format: "ratio %.2f", Double(records.readableBytes) / Double(compressed.readableBytes))
    let compress = try Measure.run("\(codec.name) compress 1 MiB", bytes: records.readableBytes) {
        sink &+= try RecordCompression.compress(records, codec: codec).readableBytes
    }
    table.add(compress, baseline: copy, note: ratio)
    let decompress = try Measure.run("\(codec.name) decompress 1 MiB", bytes: records.readableBytes) {
        sink &+= try RecordCompression.decompress(compressed, codec: codec, maximumSize: 2 * megabyte).readableBytes
    }
    table.add(decompress, baseline: copy)
}

table.print()
if sink == 42 { print("") }  // keeps the optimizer from dropping the measured work
