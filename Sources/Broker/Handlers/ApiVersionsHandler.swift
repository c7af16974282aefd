import MartletProtocol

/// ApiVersions (key 18): the APIs and versions this broker serves, straight from the handler registry.
///
/// Supported/finalized feature tags are left out while they hold defaults: librdkafka before 2.2 cannot skip
/// tagged fields (PITFALLS.md), and the generated encoder omits default-valued tags as Kafka does.
struct ApiVersionsHandler: ApiHandler {
    typealias Request = ApiVersionsRequest
    let versions: ClosedRange<Int16> = 0...4
    /// Filled in after the registry exists, since the registry includes this handler.
    let advertised: @Sendable () -> [(apiKey: ApiKey, versions: ClosedRange<Int16>)]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async -> HandlerOutcome<ApiVersionsResponse> {
        if context.apiVersion >= 3 && !Self.isValid(request) {
            return .respond(ApiVersionsResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue))
        }
        let keys = advertised().map {
            ApiVersionsResponse.ApiVersion(apiKey: $0.apiKey.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
        }
        return .respond(ApiVersionsResponse(errorCode: 0, apiKeys: keys, throttleTimeMs: 0))
    }

    /// KIP-511: client software name and version must be non-empty and made of [a-zA-Z0-9.-] characters
    /// beginning and ending with a letter or digit.
    static func isValid(_ request: ApiVersionsRequest) -> Bool {
        func valid(_ text: String) -> Bool {
            guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
            let alphanumeric = { (scalar: Unicode.Scalar) in scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)) }
            return alphanumeric(first) && alphanumeric(last)
                && text.unicodeScalars.allSatisfy { alphanumeric($0) || $0 == "." || $0 == "-" }
        }
        return valid(request.clientSoftwareName) && valid(request.clientSoftwareVersion)
    }
}
