import Logging
import MartletProtocol
import MartletReplication

/// Topic metadata on a broker under the controllers: reads come from the metadata image this broker has
/// applied (published by `ClusterMetadataReconciler` only after its partitions follow the image), and
/// topic creation goes to the active controller, as Kafka forwards it. A creation is answered once the
/// controller committed it and this broker's image shows it, so a client that creates a topic and asks
/// this broker for its metadata right after finds it. (Other admin requests are forwarded whole, by
/// `ForwardingHandler`s, so the controller's current state decides them, not this broker's copy.)
actor ClusterMetadataStore: MetadataStore {
    private let nodeId: Int32
    /// The listener clients connect on, whose endpoint of every broker Metadata reports.
    private let listenerName: String
    private let channel: ControllerChannel
    private var image = MetadataImage()
    private var waiters: [ImageWaiter] = []

    /// A change waiting for the image to show it, or for its deadline.
    private struct ImageWaiter {
        var condition: @Sendable (MetadataImage) -> Bool
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, Never>
    }

    /// How long a forwarded request may take, failovers included (Kafka's `request.timeout.ms`).
    static let controllerTimeoutMs: Int64 = 30_000
    /// How long a committed change may take to reach this broker's image before the answer goes anyway.
    static let propagationTimeoutMs: Int64 = 5_000

    init(config: BrokerConfig, channel: ControllerChannel) {
        nodeId = config.nodeId
        listenerName = config.advertisedListeners[0].name
        self.channel = channel
    }

    /// The image this broker now serves.
    var current: MetadataImage { image }

    /// Takes a newer image and wakes the changes waiting for it.
    func publish(_ newer: MetadataImage) {
        image = newer
        releaseWaiters()
    }

    /// Resumes the waiters whose condition holds or whose deadline passed.
    private func releaseWaiters() {
        let now = ContinuousClock.now
        let done = waiters.filter { $0.condition(image) || $0.deadline <= now }
        guard !done.isEmpty else { return }
        waiters.removeAll { $0.condition(image) || $0.deadline <= now }
        for waiter in done { waiter.continuation.resume() }
    }

    // MARK: Reads

    func allTopics() -> [TopicMetadata] {
        image.topicsById.values.map(metadata).sorted { $0.name < $1.name }
    }

    func topic(named name: String) -> TopicMetadata? { image.topic(named: name).map(metadata) }

    func topic(withId id: KafkaUUID) -> TopicMetadata? { image.topicsById[id].map(metadata) }

    func liveBrokers() -> [BrokerEndpoint] {
        image.brokers.values.filter { !$0.fenced }.sorted { $0.id < $1.id }.compactMap { broker in
            guard let endpoint = broker.endpoints.first(where: { $0.name == listenerName }) ?? broker.endpoints.first else { return nil }
            return BrokerEndpoint(id: broker.id, host: endpoint.host, port: Int32(endpoint.port), rack: broker.rack)
        }
    }

    func partitionState(_ topicPartition: TopicPartition) -> PartitionState? {
        guard let topic = image.topic(named: topicPartition.topic), let partition = topic.partitions[topicPartition.partition] else { return nil }
        let offline = partition.replicas.filter { image.brokers[$0].map(\.fenced) ?? true }
        return PartitionState(
            leader: partition.leader, leaderEpoch: partition.leaderEpoch, replicas: partition.replicas, isr: partition.isr,
            offlineReplicas: offline)
    }

    /// Every replica the image places on this broker, with its topic id.
    func hostedReplicas() -> [TopicPartition: KafkaUUID] {
        var hosted: [TopicPartition: KafkaUUID] = [:]
        for topic in image.topicsById.values {
            for (index, partition) in topic.partitions where partition.replicas.contains(nodeId) {
                hosted[TopicPartition(topic.name, index)] = topic.id
            }
        }
        return hosted
    }

    func hostedPartitions(of topic: TopicMetadata) -> [Int32] {
        guard let image = image.topicsById[topic.id] else { return [] }
        return image.partitions.filter { $0.value.replicas.contains(nodeId) }.map(\.key).sorted()
    }

    private func metadata(_ topic: TopicImage) -> TopicMetadata {
        TopicMetadata(topic, configs: image.configs[ConfigResource(.topic, topic.name)] ?? [:])
    }

    // MARK: Changes, sent to the active controller

    func createTopic(_ topic: TopicMetadata, assignment: [[Int32]]?, validateOnly: Bool) async throws(BrokerError) -> TopicMetadata {
        var creatable = CreateTopicsRequest.CreatableTopic()
        creatable.name = topic.name
        if let assignment {
            creatable.numPartitions = -1
            creatable.replicationFactor = -1
            creatable.assignments = assignment.enumerated().map { .init(partitionIndex: Int32($0.offset), brokerIds: $0.element) }
        } else {
            creatable.numPartitions = topic.partitionCount
            creatable.replicationFactor = topic.replicationFactor
        }
        creatable.configs = topic.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        var request = CreateTopicsRequest()
        request.topics = [creatable]
        request.timeoutMs = Int32(Self.controllerTimeoutMs)
        request.validateOnly = validateOnly
        let notController = KafkaErrorCode.notController.rawValue
        let response = try await channel.send(
            request, version: 7, timeoutMs: Self.controllerTimeoutMs, isNotController: { $0.topics.contains { $0.errorCode == notController } })
        guard let result = response.topics.first else {
            throw BrokerError(.unknownServerError, "The controller answered CreateTopics without a result.")
        }
        if result.errorCode != 0 {
            let code = KafkaErrorCode(rawValue: result.errorCode) ?? .unknownServerError
            throw BrokerError(code, result.errorMessage ?? code.name)
        }
        let created = TopicMetadata(
            name: topic.name, id: result.topicId, partitionCount: result.numPartitions, replicationFactor: result.replicationFactor,
            configs: topic.configs)
        if !validateOnly {
            let id = result.topicId
            await waitForImage { $0.topicsById[id] != nil }
        }
        return created
    }

    /// Returns once the published image satisfies `condition`, or after `propagationTimeoutMs`.
    private func waitForImage(_ condition: @escaping @Sendable (MetadataImage) -> Bool) async {
        if condition(image) { return }
        let deadline = ContinuousClock.now + .milliseconds(Self.propagationTimeoutMs)
        let timeout = Task { [weak self] in
            try? await Task.sleep(until: deadline)
            await self?.releaseWaiters()
        }
        await withCheckedContinuation { waiters.append(ImageWaiter(condition: condition, deadline: deadline, continuation: $0)) }
        timeout.cancel()
    }
}
