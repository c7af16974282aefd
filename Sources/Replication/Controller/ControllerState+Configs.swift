import MartletProtocol

/// IncrementalAlterConfigs for topics (`ConfigurationControlManager.incrementalAlterConfigs`): each
/// resource is checked as a whole and either all its changes are written or none.
extension ControllerState {
    /// `AlterConfigOp.OpType`.
    enum ConfigOperation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3
    }

    public mutating func incrementalAlterConfigs(
        _ request: IncrementalAlterConfigsRequest, nextOffset: Int64
    ) -> ControllerResult<IncrementalAlterConfigsResponse> {
        var batch = PendingRecords(firstOffset: nextOffset)
        let repeated = Self.repeated(request.resources.map { ResourceKey(type: $0.resourceType, name: $0.resourceName) })
        var responses: [IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            var response = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse(
                errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName)
            do throws(ApiError) {
                if repeated.contains(ResourceKey(type: resource.resourceType, name: resource.resourceName)) {
                    throw ApiError(.invalidRequest, "Duplicate resource.")
                }
                let changes = try topicConfigChanges(resource)
                if !request.validateOnly {
                    for (name, value) in changes {
                        emit(.config(ConfigRecord(resourceType: resource.resourceType, resourceName: resource.resourceName, name: name, value: value)), into: &batch)
                    }
                }
            } catch {
                response.errorCode = error.code.rawValue
                response.errorMessage = error.message
            }
            responses.append(response)
        }
        return ControllerResult(records: batch.records, response: IncrementalAlterConfigsResponse(responses: responses))
    }

    /// A resource as the request names it, before its type is known to be valid.
    private struct ResourceKey: Hashable {
        var type: Int8
        var name: String
    }

    /// The keys whose value changes, with the new value (nil deletes), in request order.
    private func topicConfigChanges(
        _ resource: IncrementalAlterConfigsRequest.AlterConfigsResource
    ) throws(ApiError) -> [(String, String?)] {
        guard resource.resourceType == ConfigResource.Kind.topic.rawValue else {
            throw ApiError(.invalidRequest, "Unsupported resource type \(resource.resourceType): this controller alters topic configs only.")
        }
        if resource.resourceName.isEmpty { throw ApiError(.invalidRequest, "Default topic resources are not allowed.") }
        guard image.topicIdsByName[resource.resourceName] != nil else {
            throw ApiError(.unknownTopicOrPartition, "The topic '\(resource.resourceName)' does not exist.")
        }
        let current = image.configs[ConfigResource(.topic, resource.resourceName)] ?? [:]
        var updated = current
        var order: [String] = []
        for change in resource.configs {
            if order.contains(change.name) { throw ApiError(.invalidRequest, "Error due to duplicate config keys") }
            order.append(change.name)
            guard let operation = ConfigOperation(rawValue: change.configOperation) else {
                throw ApiError(.invalidRequest, "Unknown alter config operation type \(change.configOperation)")
            }
            guard let key = config.topicConfigs.keys[change.name] else {
                throw ApiError(.invalidConfig, "Unknown topic config name: \(change.name)")
            }
            switch operation {
            case .set:
                guard let value = change.value else { throw ApiError(.invalidRequest, "Null value not supported for: \(change.name)") }
                updated[change.name] = value
            case .delete:
                updated[change.name] = nil
            case .append, .subtract:
                guard key.isList else {
                    throw ApiError(.invalidConfig, "Config value \(operation == .append ? "append" : "subtract") is not allowed for config key: \(change.name)")
                }
                var items = Self.listItems(updated[change.name] ?? key.defaultValue ?? "")
                let given = Self.listItems(change.value ?? "")
                if operation == .append {
                    items += given.filter { !items.contains($0) }
                } else {
                    items.removeAll(where: given.contains)
                }
                updated[change.name] = items.joined(separator: ",")
            }
            if let value = updated[change.name], let problem = config.topicConfigs.problem(name: change.name, value: value) {
                throw ApiError(.invalidConfig, problem)
            }
        }
        return order.filter { updated[$0] != current[$0] }.map { ($0, updated[$0]) }
    }

    /// A list value's items, trimmed and without empties, as Kafka's `ConfigDef.parseType` reads a LIST.
    private static func listItems(_ value: String) -> [String] {
        value.split(separator: ",").map { item in
            let leading = item.drop(while: \.isWhitespace)
            return String(leading.dropLast(leading.reversed().prefix(while: \.isWhitespace).count))
        }.filter { !$0.isEmpty }
    }
}
