import MartletProtocol

/// AlterConfigs (key 33): replaces a topic's whole set of config overrides (the legacy, non-incremental
/// semantics: keys not given return to their defaults).
/// On a single node; a broker under the controllers forwards the request (`ForwardingHandler`).
struct AlterConfigsHandler: ApiHandler {
    typealias Request = AlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...2
    let admin: LocalTopicAdmin

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async -> HandlerOutcome<AlterConfigsResponse> {
        var responses: [AlterConfigsResponse.AlterConfigsResourceResponse] = []
        for resource in request.resources {
            var configs: [String: String] = [:]
            for config in resource.configs { if let value = config.value { configs[config.name] = value } }
            let outcome = await admin.alterTopicConfigs(
                resourceType: resource.resourceType, name: resource.resourceName, validateOnly: request.validateOnly
            ) { _ in configs }
            responses.append(.init(
                errorCode: outcome?.code.rawValue ?? 0, errorMessage: outcome?.message,
                resourceType: resource.resourceType, resourceName: resource.resourceName))
        }
        return .respond(AlterConfigsResponse(throttleTimeMs: 0, responses: responses))
    }
}
