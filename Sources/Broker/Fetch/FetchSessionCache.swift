import MartletProtocol

/// Incremental fetch sessions (KIP-227). A consumer opens a session with epoch 0 and then sends only the
/// partitions that changed (and the ones it forgets), with the epoch counting up; the broker remembers the
/// rest and answers only partitions with news: records, an error, or moved offsets.
///
/// Bounded: at most `capacity` sessions, the least recently used evicted first (its owner then gets
/// FETCH_SESSION_ID_NOT_FOUND and starts a new session, as the protocol intends).
public actor FetchSessionCache {
    /// A partition of a session: what the consumer asked for and what it was last told.
    struct SessionPartition {
        var topic: String
        var topicId: KafkaUUID
        var fetch: FetchRequest.FetchPartition
        var lastHighWatermark: Int64 = -2
        var lastLogStartOffset: Int64 = -2
        var lastStableOffset: Int64 = -2
    }

    struct Key: Hashable {
        var topicId: KafkaUUID
        var topic: String
        var partition: Int32
    }

    final class Session {
        let id: Int32
        var epoch: Int32
        var partitions: [Key: SessionPartition] = [:]
        /// Partition order as first added, so answers list partitions stably.
        var order: [Key] = []
        var lastUsed: UInt64 = 0

        init(id: Int32) {
            self.id = id
            epoch = 1
        }
    }

    /// The partitions one fetch reads, and the session it belongs to (id 0 when none).
    public struct Resolved: Sendable {
        var sessionId: Int32
        var incremental: Bool
        var partitions: [(topic: String, topicId: KafkaUUID, fetch: FetchRequest.FetchPartition)]
    }

    private var sessions: [Int32: Session] = [:]
    private let capacity: Int
    private var tick: UInt64 = 0
    private var random = SystemRandomNumberGenerator()

    public init(capacity: Int = 1000) {
        self.capacity = capacity
    }

    /// A request resolved against its session, or the error the whole response carries.
    enum Resolution {
        case resolved(Resolved)
        case failed(KafkaErrorCode)
    }

    func resolve(_ request: FetchRequest, usesTopicIds: Bool, metadata: any MetadataStore) async -> Resolution {
        var requested: [(topic: String, topicId: KafkaUUID, fetch: FetchRequest.FetchPartition)] = []
        for topic in request.topics {
            var name = topic.topic
            if usesTopicIds { name = await topicName(for: topic.topicId, metadata: metadata) ?? "" }
            for partition in topic.partitions { requested.append((name, topic.topicId, partition)) }
        }
        tick &+= 1
        // Replicas and consumers that opt out (epoch -1) fetch without a session.
        if request.sessionEpoch == -1 {
            if request.sessionId != 0 { sessions[request.sessionId] = nil }
            return .resolved(Resolved(sessionId: 0, incremental: false, partitions: requested))
        }
        if request.sessionEpoch == 0 {
            if request.sessionId != 0 { sessions[request.sessionId] = nil }
            let session = newSession()
            for item in requested { add(item, to: session) }
            return .resolved(Resolved(sessionId: session.id, incremental: false, partitions: requested))
        }
        guard let session = sessions[request.sessionId] else { return .failed(.fetchSessionIdNotFound) }
        guard session.epoch == request.sessionEpoch else { return .failed(.invalidFetchSessionEpoch) }
        session.epoch = session.epoch == Int32.max ? 1 : session.epoch + 1
        session.lastUsed = tick
        for item in requested { add(item, to: session) }
        for forgotten in request.forgottenTopicsData {
            var name = forgotten.topic
            if usesTopicIds { name = await topicName(for: forgotten.topicId, metadata: metadata) ?? "" }
            for partition in forgotten.partitions {
                let key = Key(topicId: forgotten.topicId, topic: name, partition: partition)
                session.partitions[key] = nil
                session.order.removeAll { $0 == key }
            }
        }
        let all = session.order.compactMap { session.partitions[$0] }.map { ($0.topic, $0.topicId, $0.fetch) }
        return .resolved(Resolved(sessionId: session.id, incremental: true, partitions: all))
    }

    /// The partitions to answer: all of them for full fetches; for incremental ones only those with news.
    /// Records what each partition was told, to compare with the next answer.
    func filterForResponse(
        _ resolved: inout Resolved, results: [(String, KafkaUUID, FetchResponse.PartitionData)]
    ) -> [(String, KafkaUUID, FetchResponse.PartitionData)] {
        guard resolved.sessionId != 0, let session = sessions[resolved.sessionId] else { return results }
        var sent: [(String, KafkaUUID, FetchResponse.PartitionData)] = []
        for (topic, topicId, data) in results {
            let key = Key(topicId: topicId, topic: topic, partition: data.partitionIndex)
            guard var state = session.partitions[key] else { continue }
            let news = (data.records?.readableBytes ?? 0) > 0 || data.errorCode != 0
                || data.highWatermark != state.lastHighWatermark || data.logStartOffset != state.lastLogStartOffset
                || data.lastStableOffset != state.lastStableOffset
            if !resolved.incremental || news {
                sent.append((topic, topicId, data))
            }
            state.lastHighWatermark = data.highWatermark
            state.lastLogStartOffset = data.logStartOffset
            state.lastStableOffset = data.lastStableOffset
            session.partitions[key] = state
        }
        return sent
    }

    private func add(_ item: (topic: String, topicId: KafkaUUID, fetch: FetchRequest.FetchPartition), to session: Session) {
        let key = Key(topicId: item.topicId, topic: item.topic, partition: item.fetch.partition)
        if session.partitions[key] == nil { session.order.append(key) }
        var state = session.partitions[key] ?? SessionPartition(topic: item.topic, topicId: item.topicId, fetch: item.fetch)
        state.fetch = item.fetch
        session.partitions[key] = state
    }

    private func newSession() -> Session {
        if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
            sessions[oldest.id] = nil
        }
        var id: Int32 = 0
        while id == 0 || sessions[id] != nil { id = Int32.random(in: 1...Int32.max, using: &random) }
        let session = Session(id: id)
        session.lastUsed = tick
        sessions[id] = session
        return session
    }

    private func topicName(for id: KafkaUUID, metadata: any MetadataStore) async -> String? {
        await metadata.topic(withId: id)?.name
    }
}
