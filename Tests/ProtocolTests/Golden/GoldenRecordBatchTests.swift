import Foundation
import MartletProtocol
import NIOCore
import Testing

/// The record batches real clients produced, one per codec and client: each passes its CRC, decompresses to
/// the records the client was given (keys, values, headers, timestamps), and recompressed by us with the
/// same codec decodes to the same records.
@Suite struct GoldenRecordBatchTests {
    static let produceFixtures = WireFixture.all.filter { $0.apiName == "Produce" }

    @Test(arguments: produceFixtures)
    func clientBatchesDecodeAndRecompress(fixture: WireFixture) throws {
        guard case .request(let frame) = try KafkaRequestFrame.decode(try WireFixture.frameBody(fixture.file)),
              let produce = frame.body as? ProduceRequest
        else {
            Issue.record("\(fixture): not a Produce request")
            return
        }
        let expectedTopics = try #require(fixture.expect["topics"] as? [[String: Any]])
        for (topic, expectedTopic) in zip(produce.topicData, expectedTopics) {
            #expect(topic.name == expectedTopic["topic"] as? String)
            let expectedPartitions = try #require(expectedTopic["partitions"] as? [[String: Any]])
            for (partition, expectedPartition) in zip(topic.partitionData, expectedPartitions) {
                let records = try #require(partition.records)
                let expectedBatches = try #require(expectedPartition["batches"] as? [[String: Any]])
                let batches = Array(RecordBatchSequence(records))
                #expect(batches.count == expectedBatches.count, "\(fixture)")
                for (bytes, expectedBatch) in zip(batches, expectedBatches) {
                    try check(batch: bytes, against: expectedBatch, fixture: fixture)
                }
            }
        }
    }

    private func check(batch bytes: ByteBuffer, against expected: [String: Any], fixture: WireFixture) throws {
        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: 1 << 20)
        let codec = try #require(batch.header.attributes.compression)
        #expect(codec.name == expected["codec"] as? String, "\(fixture)")
        #expect(Int(batch.header.recordsCount) == expected["recordCount"] as? Int)
        #expect(batch.header.producerId == (expected["producerId"] as? NSNumber)?.int64Value)
        #expect(Int(batch.header.baseSequence) == expected["baseSequence"] as? Int)
        #expect(batch.header.baseTimestamp == (expected["baseTimestamp"] as? NSNumber)?.int64Value)
        #expect(batch.header.crc == CRC32C.checksum(bytes.getSlice(at: bytes.readerIndex + 21, length: bytes.readableBytes - 21)!))

        let expectedRecords = try #require(expected["records"] as? [[String: Any]])
        try compare(batch, with: expectedRecords, fixture: fixture)

        // Recompress with the same codec, as a broker converting or a client re-sending would.
        var builder = RecordBatchBuilder(
            compression: codec, producerId: batch.header.producerId, producerEpoch: batch.header.producerEpoch,
            baseSequence: batch.header.baseSequence)
        for record in batch.records {
            builder.append(timestamp: batch.timestamp(of: record), key: record.key, value: record.value, headers: record.headers)
        }
        let rebuilt = try RecordBatch.decode(try builder.finish(), maximumUncompressedSize: 1 << 20)
        #expect(rebuilt.header.attributes.compression == codec)
        try compare(rebuilt, with: expectedRecords, fixture: fixture)
        if codec == .none {
            // Uncompressed, a batch has one encoding: ours must be the client's, byte for byte.
            #expect(try uncompressedReencoding(of: batch) == bytes, "\(fixture): uncompressed batch re-encodes differently")
        }
    }

    private func compare(_ batch: RecordBatch, with expected: [[String: Any]], fixture: WireFixture) throws {
        #expect(batch.records.count == expected.count, "\(fixture)")
        for (record, want) in zip(batch.records, expected) {
            #expect(record.key.map { String(buffer: $0) } == want["key"] as? String, "\(fixture)")
            #expect(record.value.map { String(buffer: $0) } == want["value"] as? String, "\(fixture)")
            #expect(batch.timestamp(of: record) == (want["timestamp"] as? NSNumber)?.int64Value, "\(fixture)")
            #expect(Int(record.offsetDelta) == want["offsetDelta"] as? Int)
            let headers = try #require(want["headers"] as? [[String: Any]])
            #expect(record.headers.map(\.key) == headers.map { $0["key"] as? String ?? "" })
            #expect(record.headers.map { $0.value.map { String(buffer: $0) } } == headers.map { $0["value"] as? String })
        }
    }

    /// Every codec from every client that can write it: kcat, confluent-kafka and kafka-python all produced
    /// none, gzip, snappy, lz4 and zstd batches.
    @Test func everyCodecFromEveryClient() throws {
        for client in ["kcat", "confluent-kafka", "kafka-python"] {
            let codecs = Set(Self.produceFixtures.filter { $0.client == client }.compactMap { $0.expect["codec"] as? String })
            #expect(codecs.isSuperset(of: ["none", "gzip", "snappy", "lz4", "zstd"]), "\(client): \(codecs)")
        }
    }

    /// Fetch responses carrying records: the batches a consumer receives parse and pass their CRC.
    @Test func fetchedBatchesDecode() throws {
        var batchesSeen = 0
        for fixture in WireFixture.all where fixture.apiName == "Fetch" {
            var body = try WireFixture.frameBody(try #require(fixture.responseFile))
            let apiKey = ApiKey.fetch
            _ = try ResponseHeader(from: &body, version: apiKey.responseHeaderVersion(fixture.apiVersion))
            let response = try FetchResponse(from: &body, version: fixture.apiVersion)
            for topic in response.responses {
                for partition in topic.partitions {
                    for bytes in RecordBatchSequence(partition.records ?? ByteBuffer()) {
                        let batch = try RecordBatch.decode(bytes, maximumUncompressedSize: 1 << 20)
                        #expect(batch.records.count == Int(batch.header.recordsCount))
                        batchesSeen += 1
                    }
                }
            }
        }
        #expect(batchesSeen > 0)
    }
}

/// `batch` written again by the builder, uncompressed, with its original header fields.
private func uncompressedReencoding(of batch: RecordBatch) throws -> ByteBuffer {
    var builder = RecordBatchBuilder(
        compression: .none, baseOffset: batch.header.baseOffset, partitionLeaderEpoch: batch.header.partitionLeaderEpoch,
        producerId: batch.header.producerId, producerEpoch: batch.header.producerEpoch,
        baseSequence: batch.header.baseSequence)
    for record in batch.records {
        builder.append(timestamp: batch.timestamp(of: record), key: record.key, value: record.value, headers: record.headers)
    }
    return try builder.finish()
}
