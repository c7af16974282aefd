import MartletProtocol
import NIOCore

/// Fetch (key 1): records from each partition from the fetch offset, starting with the whole batch that
/// contains it, within the partition and response byte limits; waits up to `max.wait.ms` for `min.bytes`.
/// Incremental fetch sessions (KIP-227) are kept in `FetchSessionCache`.
struct FetchHandler: ApiHandler {
    typealias Request = FetchRequest
    let versions: ClosedRange<Int16> = 4...18
    let broker: BrokerCore
    let sessions: FetchSessionCache

    typealias TopicResponse = FetchResponse.FetchableTopicResponse
    typealias PartitionData = FetchResponse.PartitionData

    /// One partition to read, resolved against the metadata.
    struct Wanted {
        var topic: String
        var topicId: KafkaUUID
        var fetch: FetchRequest.FetchPartition
        var partition: Partition?
        var error: KafkaErrorCode?
    }

    /// Records are read as log slices and spliced into the encoded response as file regions (sendfile).
    func respond(to body: any KafkaRequest, context: RequestContext, allocator: ByteBufferAllocator) async throws -> ResponseFrame? {
        var splicer: FetchResponseSplicer? = FetchResponseSplicer()
        let response = await fetch(request(from: body), context: context, splicer: &splicer)
        let frame = try KafkaResponseFrame.encode(response, version: context.apiVersion, correlationId: context.correlationId, allocator: allocator)
        return splicer!.splice(frame, flexible: FetchResponse.isFlexible(context.apiVersion))
    }

    /// The response with the records copied into it: what `respond` sends, as one value (in-process tests).
    func handle(_ request: FetchRequest, context: RequestContext) async -> HandlerOutcome<FetchResponse> {
        var splicer: FetchResponseSplicer? = nil
        return .respond(await fetch(request, context: context, splicer: &splicer))
    }

    private func fetch(_ request: FetchRequest, context: RequestContext, splicer: inout FetchResponseSplicer?) async -> FetchResponse {
        let usesTopicIds = context.apiVersion >= 13
        var session: FetchSessionCache.Resolved
        switch await sessions.resolve(request, usesTopicIds: usesTopicIds, metadata: broker.metadata) {
        case .resolved(let resolved):
            session = resolved
        case .failed(let code):
            return FetchResponse(throttleTimeMs: 0, errorCode: code.rawValue, sessionId: 0)
        }

        var wanted: [Wanted] = []
        wanted.reserveCapacity(session.partitions.count)
        for item in session.partitions {
            var one = Wanted(topic: item.topic, topicId: item.topicId, fetch: item.fetch)
            let topicPartition = TopicPartition(item.topic, item.fetch.partition)
            if item.topic.isEmpty {
                one.error = usesTopicIds ? .unknownTopicId : .unknownTopicOrPartition
            } else if let partition = broker.replicas.partition(topicPartition) {
                one.partition = partition
            } else {
                one.error = await broker.absentPartitionError(topicPartition)
            }
            wanted.append(one)
        }

        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(max(0, request.maxWaitMs))
        var results: [PartitionData]
        var reads: [LogReadResult?]
        while true {
            let generation = broker.appendSignal.generation
            var bytes = 0
            var anyError = false
            results = []
            reads = []
            for item in wanted {
                let (data, read) = await read(item, request: request, budget: max(0, Int(request.maxBytes) - bytes), firstWithData: bytes == 0)
                bytes += read?.size ?? 0
                anyError = anyError || data.errorCode != 0
                results.append(data)
                reads.append(read)
            }
            if bytes >= max(1, Int(request.minBytes)) || anyError || clock.now >= deadline || request.maxWaitMs <= 0 {
                break
            }
            await broker.appendSignal.wait(after: generation, timeout: deadline - clock.now)
            if Task.isCancelled { break }
        }

        for (index, read) in reads.enumerated() {
            guard let read, !read.isEmpty else { continue }
            if splicer != nil {
                results[index].records = splicer!.placeholder(for: read)
            } else {
                do {
                    results[index].records = try read.readBytes()
                } catch {
                    results[index].errorCode = error.kafkaErrorCode.rawValue
                }
            }
        }
        let sent = await sessions.filterForResponse(&session, results: zip(wanted, results).map { ($0.topic, $0.topicId, $1) })
        var topics: [TopicResponse] = []
        for (topic, topicId, data) in sent {
            if let last = topics.last, last.topic == topic, last.topicId == topicId {
                topics[topics.count - 1].partitions.append(data)
            } else {
                topics.append(TopicResponse(topic: topic, topicId: topicId, partitions: [data]))
            }
        }
        return FetchResponse(throttleTimeMs: 0, errorCode: 0, sessionId: session.sessionId, responses: topics)
    }

    /// A partition's answer without its records, and the records as log slices.
    private func read(_ item: Wanted, request: FetchRequest, budget: Int, firstWithData: Bool) async -> (PartitionData, LogReadResult?) {
        var data = PartitionData(
            partitionIndex: item.fetch.partition, errorCode: 0, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
            abortedTransactions: request.isolationLevel == 1 ? [] : nil, preferredReadReplica: -1, records: ByteBuffer())
        guard let partition = item.partition else {
            data.errorCode = (item.error ?? .unknownTopicOrPartition).rawValue
            return (data, nil)
        }
        do {
            let read = try await partition.read(
                from: item.fetch.fetchOffset, maxBytes: min(Int(item.fetch.partitionMaxBytes), budget),
                minOneBatch: firstWithData, currentLeaderEpoch: item.fetch.currentLeaderEpoch,
                readCommitted: request.isolationLevel == 1)
            data.highWatermark = read.highWatermark
            data.lastStableOffset = read.lastStableOffset
            data.logStartOffset = read.logStartOffset
            return (data, read.records)
        } catch {
            data.errorCode = error.code.rawValue
            let offsets = await partition.offsets
            data.highWatermark = offsets.highWatermark
            data.lastStableOffset = offsets.highWatermark
            data.logStartOffset = offsets.logStartOffset
            return (data, nil)
        }
    }
}
