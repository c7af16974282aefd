import MartletProtocol

/// Every API this broker serves, each with the versions it implements. ApiVersions answers from this list,
/// so what is advertised is exactly what is implemented.
public struct HandlerRegistry: Sendable {
    private let handlers: [ApiKey: any ApiHandler]

    public init(_ handlers: [any ApiHandler]) {
        var byKey: [ApiKey: any ApiHandler] = [:]
        for handler in handlers {
            precondition(byKey[handler.apiKey] == nil, "two handlers for \(handler.apiKey.name)")
            byKey[handler.apiKey] = handler
        }
        self.handlers = byKey
    }

    public func handler(for apiKey: ApiKey) -> (any ApiHandler)? { handlers[apiKey] }

    /// The advertised range of `apiKey`, nil when not served.
    public func versions(of apiKey: ApiKey) -> ClosedRange<Int16>? { handlers[apiKey]?.versions }

    /// Every served API and its versions, by key, for the ApiVersions response.
    public var advertised: [(apiKey: ApiKey, versions: ClosedRange<Int16>)] {
        handlers.map { ($0.key, $0.value.versions) }.sorted { $0.apiKey.rawValue < $1.apiKey.rawValue }
    }
}
