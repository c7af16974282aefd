import Logging
import MartletProtocol
import MartletReplication

/// Makes a broker follow the metadata image (Kafka's `BrokerMetadataPublisher`): opens the logs of the
/// partitions placed on it, deletes those of deleted topics, gives each replica the leadership and epoch
/// the log records, applies topic config changes, and moves the group coordinator to the
/// `__consumer_offsets` partitions it leads. Only then is the image published to the handlers, so
/// Metadata never names this broker leader of a partition that does not act as one yet.
struct ClusterMetadataReconciler: Sendable {
    let core: BrokerCore
    let store: ClusterMetadataStore
    let groups: GroupCoordinator

    /// Brings the partitions from `previous` to `image`, then publishes `image`. Topics in `retrying`
    /// (whose logs could not be opened last time) are followed again from scratch. Returns the topics
    /// whose logs could not be opened this time, to retry with the next image (one comes every few
    /// hundred milliseconds, as the controller appends no-ops when idle).
    func reconcile(_ image: MetadataImage, previous: MetadataImage, retrying: Set<KafkaUUID>) async -> Set<KafkaUUID> {
        var failed: Set<KafkaUUID> = []
        if image.topicsById != previous.topicsById || image.configs != previous.configs || !retrying.isEmpty {
            await removeDeletedTopics(image)
            for topic in image.topicsById.values {
                let known = retrying.contains(topic.id) ? nil : previous
                if await !follow(topic, in: image, previous: known) { failed.insert(topic.id) }
            }
            if let offsets = image.topic(named: GroupCoordinator.offsetsTopic), await !moveGroupCoordinator(offsets) {
                failed.insert(offsets.id)
            }
        }
        await store.publish(image)
        return failed
    }

    /// Deletes the logs of topics that are gone, or were deleted and created again under the same name.
    private func removeDeletedTopics(_ image: MetadataImage) async {
        let open = Dictionary(core.replicas.allPartitions().map { ($0.topicPartition.topic, $0.topicId) }, uniquingKeysWith: { first, _ in first })
        for (name, id) in open where image.topic(named: name)?.id != id {
            await core.replicas.removePartitions(of: name)
            core.logger.info("deleted the logs of topic \(name) (\(id)), removed from the metadata")
        }
    }

    /// Opens the topic's replicas placed here and applies what changed since `previous` (everything
    /// when nil). Returns false if its logs could not all be opened; the ones that did open still take
    /// their leadership.
    private func follow(_ topic: TopicImage, in image: MetadataImage, previous: MetadataImage?) async -> Bool {
        let nodeId = core.config.nodeId
        let metadata = TopicMetadata(topic, configs: image.configs[ConfigResource(.topic, topic.name)] ?? [:])
        let hosted = topic.partitions.filter { $0.value.replicas.contains(nodeId) }
        guard !hosted.isEmpty else { return true }
        var opened = true
        do {
            try core.replicas.ensurePartitions(of: metadata, indexes: hosted.keys.sorted())
        } catch {
            core.logger.error("cannot open the logs of \(topic.name), trying again with the next metadata: \(error)")
            opened = false
        }
        let before = previous?.topicsById[topic.id]
        for (index, registration) in hosted where before?.partitions[index] != registration {
            await core.replicas.partition(TopicPartition(topic.name, index))?.applyLeadership(
                isLeader: registration.leader == nodeId, leaderEpoch: registration.leaderEpoch)
        }
        if before != nil, previous?.configs[ConfigResource(.topic, topic.name)] != image.configs[ConfigResource(.topic, topic.name)] {
            await core.replicas.reconfigure(metadata)
        }
        return opened
    }

    /// Returns false if a partition this broker leads could not be loaded (tried again with the next image).
    private func moveGroupCoordinator(_ offsets: TopicImage) async -> Bool {
        let led = Set(offsets.partitions.filter { $0.value.leader == core.config.nodeId }.keys)
        return await groups.adopt(led: led, partitionCount: Int32(offsets.partitions.count)) == nil
    }
}

extension TopicMetadata {
    /// A topic of the metadata image as the broker's handlers see it; the replication factor is the first
    /// partition's replica count, as Kafka's admin tools report it.
    init(_ topic: TopicImage, configs: [String: String]) {
        self.init(
            name: topic.name, id: topic.id, partitionCount: Int32(topic.partitions.count),
            replicationFactor: Int16(topic.partitions[0]?.replicas.count ?? 0), configs: configs)
    }
}
