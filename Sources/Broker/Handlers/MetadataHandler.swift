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
            answers.append(describe(topic))
        }
        let node = broker.config.nodeId
        let brokers = broker.config.advertisedListeners.prefix(1).map {
            MetadataResponse.MetadataResponseBroker(nodeId: node, host: $0.host, port: Int32($0.port), rack: nil)
        }
        return .respond(MetadataResponse(
            throttleTimeMs: 0, brokers: brokers, clusterId: broker.clusterId, controllerId: node, topics: answers,
            clusterAuthorizedOperations: Int32.min
        ))
    }

    /// A topic's partitions: this single node leads every one, with itself as the only replica and ISR.
    private func describe(_ topic: TopicMetadata) -> MetadataResponse.MetadataResponseTopic {
        let node = broker.config.nodeId
        let partitions = (0..<topic.partitionCount).map { index in
            MetadataResponse.MetadataResponsePartition(
                errorCode: 0, partitionIndex: index, leaderId: node, leaderEpoch: 0,
                replicaNodes: [node], isrNodes: [node], offlineReplicas: []
            )
        }
        return .init(
            errorCode: 0, name: topic.name, topicId: topic.id, isInternal: topic.isInternal, partitions: partitions,
            topicAuthorizedOperations: Int32.min
        )
    }
}
