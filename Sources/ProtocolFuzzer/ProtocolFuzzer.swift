#if FUZZING
import CFuzzerDriver
#endif
import MartletProtocol
import NIOCore

/// libFuzzer entry point: the input is a byte stream as a client might send it. Every frame in it is
/// decoded as a request; whatever decodes must re-encode to bytes that decode and re-encode to themselves,
/// and the record batches of a Produce request are decoded as the broker would. The whole input is also
/// read as a RECORDS field (a run of batches). Decoding errors are expected; crashes, hangs, leaks and
/// runaway allocations are what the fuzzer hunts.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    var stream = input
    while let frame = try? KafkaFrame.next(from: &stream, maximumFrameSize: 1 << 20) {
        guard case .request(let request) = try? KafkaRequestFrame.decode(frame) else { continue }
        checkReencoding(request.body, version: request.apiVersion)
        if let produce = request.body as? ProduceRequest {
            for partition in produce.topicData.flatMap(\.partitionData) {
                decodeBatches(partition.records ?? ByteBuffer())
            }
        }
    }
    decodeBatches(input)
    return 0
}

/// Decodes every batch in a RECORDS field; a batch that decodes must hold exactly its recordsCount records.
private func decodeBatches(_ records: ByteBuffer) {
    for bytes in RecordBatchSequence(records) {
        guard let batch = try? RecordBatch.decode(bytes, maximumUncompressedSize: 1 << 20) else { continue }
        precondition(batch.records.count == Int(batch.header.recordsCount), "batch decoded with a wrong record count")
    }
}

/// decode(encode(x)) must encode to the same bytes as x: the codecs agree with each other on anything they
/// accept. (Bytes, not values, are compared so that a NaN in a float64 field is no false alarm.)
private func checkReencoding<Request: KafkaRequest>(_ request: Request, version: Int16) {
    guard let first = try? request.encoded(version: version) else { return }
    precondition(first.readableBytes == request.size(version: version), "\(Request.self) v\(version): size() disagrees with encode()")
    var copy = first
    guard let again = try? Request(from: &copy, version: version), copy.readableBytes == 0 else {
        preconditionFailure("\(Request.self) v\(version): its own encoding does not decode")
    }
    precondition((try? again.encoded(version: version)) == first, "\(Request.self) v\(version): re-encoding differs")
}

import Foundation

/// With FUZZING (`make fuzz`), hands control to libFuzzer; otherwise runs the given files through the fuzz
/// target once, to replay a crash or a corpus.
@main
struct ProtocolFuzzerMain {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(martlet_fuzzer_run(&argc, &argv) { data, size in fuzzOneInput(data!, size) })
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: martlet-fuzz-protocol FILE... (build with `make fuzz` to fuzz)")
            return
        }
        for path in paths {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            _ = bytes.withUnsafeBufferPointer { fuzzOneInput($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        }
        print("replayed \(paths.count) inputs")
        #endif
    }
}
