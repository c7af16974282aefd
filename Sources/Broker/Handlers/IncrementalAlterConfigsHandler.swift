import MartletProtocol

/// IncrementalAlterConfigs (key 44): SET, DELETE, APPEND or SUBTRACT individual topic config keys.
/// On a single node; a broker under the controllers forwards the request (`ForwardingHandler`).
struct IncrementalAlterConfigsHandler: ApiHandler {
    typealias Request = IncrementalAlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...1
    let admin: LocalTopicAdmin

    enum Operation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3
    }

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async -> HandlerOutcome<IncrementalAlterConfigsResponse> {
        var responses: [IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            let outcome = await admin.alterTopicConfigs(
                resourceType: resource.resourceType, name: resource.resourceName, validateOnly: request.validateOnly
            ) { current throws(BrokerError) in
                try apply(resource.configs, to: current)
            }
            responses.append(.init(
                errorCode: outcome?.code.rawValue ?? 0, errorMessage: outcome?.message,
                resourceType: resource.resourceType, resourceName: resource.resourceName))
        }
        return .respond(IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: responses))
    }

    private func apply(
        _ changes: [IncrementalAlterConfigsRequest.AlterableConfig], to current: [String: String]
    ) throws(BrokerError) -> [String: String] {
        var configs = current
        var seen: Set<String> = []
        for change in changes {
            guard seen.insert(change.name).inserted else {
                throw BrokerError(.invalidRequest, "Error due to duplicate config keys")
            }
            guard let operation = Operation(rawValue: change.configOperation) else {
                throw BrokerError(.invalidRequest, "Unknown alter config operation type \(change.configOperation)")
            }
            guard let definition = TopicConfigKeys.byName[change.name] else {
                throw BrokerError(.invalidConfig, "Unknown topic config name: \(change.name)")
            }
            switch operation {
            case .set:
                guard let value = change.value else { throw BrokerError(.invalidRequest, "Null value not supported for: \(change.name)") }
                configs[change.name] = value
            case .delete:
                configs[change.name] = nil
            case .append, .subtract:
                guard definition.type == .list else {
                    throw BrokerError(.invalidConfig, "Config value append is not allowed for config key: \(change.name)")
                }
                var items = (configs[change.name] ?? admin.core.config.topicDefault(definition) ?? "")
                    .split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
                let given = (change.value ?? "").split(separator: ",").map { String($0).trimmingWhitespace }
                if operation == .append {
                    items += given.filter { !items.contains($0) }
                } else {
                    items.removeAll { given.contains($0) }
                }
                configs[change.name] = items.joined(separator: ",")
            }
        }
        return configs
    }
}
