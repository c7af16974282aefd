import MartletProtocol

/// AlterConfigs, the legacy whole-set form (`ConfigurationControlManager.legacyAlterConfigs`): a
/// resource's overrides become exactly the keys given. It runs as IncrementalAlterConfigs against this
/// controller's image (SET what is given, DELETE the other current overrides), so both forms are checked
/// and written the same way.
extension ControllerState {
    public mutating func legacyAlterConfigs(_ request: AlterConfigsRequest, nextOffset: Int64) -> ControllerResult<AlterConfigsResponse> {
        var incremental = IncrementalAlterConfigsRequest()
        incremental.validateOnly = request.validateOnly
        incremental.resources = request.resources.map { resource in
            let given = resource.configs.filter { $0.value != nil }
            let current = ConfigResource.Kind(rawValue: resource.resourceType).flatMap { image.configs[ConfigResource($0, resource.resourceName)] } ?? [:]
            let dropped = current.keys.filter { name in !given.contains { $0.name == name } }.sorted()
            return IncrementalAlterConfigsRequest.AlterConfigsResource(
                resourceType: resource.resourceType, resourceName: resource.resourceName,
                configs: given.map { .init(name: $0.name, configOperation: ConfigOperation.set.rawValue, value: $0.value) }
                    + dropped.map { .init(name: $0, configOperation: ConfigOperation.delete.rawValue, value: nil) })
        }
        let result = incrementalAlterConfigs(incremental, nextOffset: nextOffset)
        return ControllerResult(records: result.records, response: AlterConfigsResponse(responses: result.response.responses.map {
            .init(errorCode: $0.errorCode, errorMessage: $0.errorMessage, resourceType: $0.resourceType, resourceName: $0.resourceName)
        }))
    }
}
