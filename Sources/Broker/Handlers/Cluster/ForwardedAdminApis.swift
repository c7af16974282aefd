import MartletProtocol

/// The admin APIs a broker under the controllers forwards to the active controller, with the same version
/// ranges the controller serves: DeleteTopics (20), CreatePartitions (37), AlterConfigs (33),
/// IncrementalAlterConfigs (44) and DescribeQuorum (55). CreateTopics is not among them: the broker sends
/// the creation itself (`ClusterMetadataStore`) so that auto-creation and the offsets topic share its path.
enum ForwardedAdminApis {
    static func handlers(_ channel: ControllerChannel) -> [any ApiHandler] {
        [deleteTopics(channel), createPartitions(channel), alterConfigs(channel), incrementalAlterConfigs(channel), describeQuorum(channel)]
    }

    static let notController = KafkaErrorCode.notController.rawValue

    static func deleteTopics(_ channel: ControllerChannel) -> ForwardingHandler<DeleteTopicsRequest> {
        ForwardingHandler(
            versions: 1...6, channel: channel,
            isNotController: { $0.responses.contains { $0.errorCode == notController } },
            unanswered: { request, error in
                let names = request.topicNames.map { ($0 as String?, KafkaUUID.zero) } + request.topics.map { ($0.name, $0.topicId) }
                return DeleteTopicsResponse(responses: names.map {
                    .init(name: $0.0, topicId: $0.1, errorCode: error.code.rawValue, errorMessage: error.message)
                })
            })
    }

    static func createPartitions(_ channel: ControllerChannel) -> ForwardingHandler<CreatePartitionsRequest> {
        ForwardingHandler(
            versions: 0...3, channel: channel,
            isNotController: { $0.results.contains { $0.errorCode == notController } },
            unanswered: { request, error in
                CreatePartitionsResponse(results: request.topics.map {
                    .init(name: $0.name, errorCode: error.code.rawValue, errorMessage: error.message)
                })
            })
    }

    static func alterConfigs(_ channel: ControllerChannel) -> ForwardingHandler<AlterConfigsRequest> {
        ForwardingHandler(
            versions: 0...2, channel: channel,
            isNotController: { $0.responses.contains { $0.errorCode == notController } },
            unanswered: { request, error in
                AlterConfigsResponse(responses: request.resources.map {
                    .init(errorCode: error.code.rawValue, errorMessage: error.message, resourceType: $0.resourceType, resourceName: $0.resourceName)
                })
            })
    }

    static func incrementalAlterConfigs(_ channel: ControllerChannel) -> ForwardingHandler<IncrementalAlterConfigsRequest> {
        ForwardingHandler(
            versions: 0...1, channel: channel,
            isNotController: { $0.responses.contains { $0.errorCode == notController } },
            unanswered: { request, error in
                IncrementalAlterConfigsResponse(responses: request.resources.map {
                    .init(errorCode: error.code.rawValue, errorMessage: error.message, resourceType: $0.resourceType, resourceName: $0.resourceName)
                })
            })
    }

    /// A controller that does not lead answers NOT_LEADER_OR_FOLLOWER, at the top level or on the partition.
    static func describeQuorum(_ channel: ControllerChannel) -> ForwardingHandler<DescribeQuorumRequest> {
        let notLeader = KafkaErrorCode.notLeaderOrFollower.rawValue
        return ForwardingHandler(
            versions: 0...2, channel: channel,
            isNotController: { response in
                response.errorCode == notLeader || response.topics.contains { $0.partitions.contains { $0.errorCode == notLeader } }
            },
            unanswered: { _, error in DescribeQuorumResponse(errorCode: error.code.rawValue, errorMessage: error.message) })
    }
}
