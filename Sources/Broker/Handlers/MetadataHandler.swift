import MartletProtocol
import MartletReplication

/// Metadata (key 3): brokers, the controller, and topics with their partitions, leaders and replicas.
/// Topics asked for that do not exist are created when `auto.create.topics.enable` and the request allow it.
struct MetadataHandler: ApiHandler {
    typealias Request = MetadataRequest
    let versions: ClosedRange<Int16> = 0...13
    let broker: BrokerCore

    func handle(_ request: MetadataRequest, context: RequestContext) async -> HandlerOutcome<MetadataResponse> {
        let topics: [TopicMetadata?]
        var answers: [MetadataResponse.MetadataResponseTopic] = []
        if let requested = request.topics {
            // v0 has no null topic list: an empty list means every topic. v1+ sends null for every topic.
            if requested.isEmpty && context.apiVersion == 0 {
                topics = await broker.metadata.allTopics()
            } else {
                var found: [TopicMetadata?] = []
                for wanted in requested {
                    guard let name = wanted.name else {
                        answers.append(.init(errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: wanted.topicId))
                        continue
                    }
                    if let problem = TopicName.problem(with: name) {
                        broker.logger.debug("metadata for invalid topic name: \(problem)")
                        answers.append(.init(errorCode: KafkaErrorCode.invalidTopicException.rawValue, name: name))
                        continue
                    }
                    if let topic = await broker.metadata.topic(named: name) {
                        found.append(topic)
                    } else if broker.config.autoCreateTopics && (context.apiVersion < 4 || request.allowAutoTopicCreation) {
                        switch await broker.createTopic(name: name, partitions: nil, replicationFactor: nil, configs: [:]) {
                        case .success(let topic):
                            found.append(topic)
                        case .failure(let error) where error.code == .topicAlreadyExists:
                            found.append(await broker.metadata.topic(named: name))
                        case .failure(let error):
                            answers.append(.init(errorCode: error.code.rawValue, name: name))
                        }
                    } else {
                        answers.append(.init(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name))
                    }
                }
                topics = found
            }
        } else {
            topics = await broker.metadata.allTopics()
        }
        for case let topic? in topics {
            answers.append(await describe(topic))
        }
        let brokers = await broker.metadata.liveBrokers().map {
            MetadataResponse.MetadataResponseBroker(nodeId: $0.id, host: $0.host, port: $0.port, rack: $0.rack)
        }
        // Clients send "controller" requests to this id: a broker that forwards them to the active
        // controller, as Kafka answers under KRaft. This one does.
        return .respond(MetadataResponse(
            throttleTimeMs: 0, brokers: brokers, clusterId: broker.clusterId, controllerId: broker.config.nodeId, topics: answers,
            clusterAuthorizedOperations: Int32.min
        ))
    }

    /// A topic's partitions with their leaders, epochs and replicas; one without a live leader carries
    /// LEADER_NOT_AVAILABLE, as from Kafka.
    private func describe(_ topic: TopicMetadata) async -> MetadataResponse.MetadataResponseTopic {
        var partitions: [MetadataResponse.MetadataResponsePartition] = []
        for index in 0..<topic.partitionCount {
            guard let state = await broker.metadata.partitionState(TopicPartition(topic.name, index)) else { continue }
            let leaderless = state.leader == PartitionRegistration.noLeader
            partitions.append(MetadataResponse.MetadataResponsePartition(
                errorCode: leaderless ? KafkaErrorCode.leaderNotAvailable.rawValue : 0, partitionIndex: index,
                leaderId: state.leader, leaderEpoch: state.leaderEpoch, replicaNodes: state.replicas, isrNodes: state.isr,
                offlineReplicas: state.offlineReplicas
            ))
        }
        return .init(
            errorCode: 0, name: topic.name, topicId: topic.id, isInternal: topic.isInternal, partitions: partitions,
            topicAuthorizedOperations: Int32.min
        )
    }
}
