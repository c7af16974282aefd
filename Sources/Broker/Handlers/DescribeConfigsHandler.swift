import MartletProtocol

/// DescribeConfigs (key 32): every config of a topic or of this broker, with its value, source, synonyms,
/// type and documentation, under Kafka's names, so tools that look up `min.insync.replicas` or
/// `cleanup.policy` find them.
struct DescribeConfigsHandler: ApiHandler {
    typealias Request = DescribeConfigsRequest
    let versions: ClosedRange<Int16> = 1...4
    let broker: BrokerCore

    typealias Result = DescribeConfigsResponse.DescribeConfigsResult

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async -> HandlerOutcome<DescribeConfigsResponse> {
        var results: [Result] = []
        for resource in request.resources {
            var result = Result(errorCode: 0, resourceType: resource.resourceType, resourceName: resource.resourceName)
            let resolved: [ResolvedConfig]
            switch ConfigResourceType(rawValue: resource.resourceType) {
            case .topic:
                guard let topic = await broker.metadata.topic(named: resource.resourceName) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic \(resource.resourceName) does not exist."
                    results.append(result)
                    continue
                }
                resolved = broker.config.resolveTopicConfigs(topic.configs)
            case .broker:
                guard resource.resourceName.isEmpty || resource.resourceName == String(broker.config.nodeId) else {
                    result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    result.errorMessage = "Unexpected broker id, expected \(broker.config.nodeId) or empty string, but received \(resource.resourceName)"
                    results.append(result)
                    continue
                }
                resolved = broker.config.resolveBrokerConfigs()
            default:
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "Unsupported resource type \(resource.resourceType)"
                results.append(result)
                continue
            }
            let wanted = resource.configurationKeys.map(Set.init)
            // Broker configs come from server.properties and cannot change while running: read-only.
            let readOnly = resource.resourceType == ConfigResourceType.broker.rawValue
            result.configs = resolved.filter { wanted?.contains($0.definition.name) ?? true }.map {
                describe($0, readOnly: readOnly, includeSynonyms: request.includeSynonyms, includeDocumentation: request.includeDocumentation)
            }
            results.append(result)
        }
        return .respond(DescribeConfigsResponse(throttleTimeMs: 0, results: results))
    }

    private func describe(_ config: ResolvedConfig, readOnly: Bool, includeSynonyms: Bool, includeDocumentation: Bool)
        -> DescribeConfigsResponse.DescribeConfigsResourceResult
    {
        .init(
            name: config.definition.name,
            value: config.isSensitive ? nil : config.value,
            readOnly: readOnly,
            configSource: config.source.rawValue,
            isDefault: config.source == .defaultConfig,
            isSensitive: config.isSensitive,
            synonyms: includeSynonyms
                ? config.synonyms.map { .init(name: $0.name, value: config.isSensitive ? nil : $0.value, source: $0.source.rawValue) }
                : [],
            configType: config.definition.type.describeConfigsType,
            documentation: includeDocumentation ? config.definition.documentation : nil
        )
    }
}
