extension ApiKey {
    /// Whether `version` of this API uses the flexible encoding. Versions above the known range count as
    /// flexible when the API has flexible versions at all, so that a newer client's header still parses.
    public func isFlexible(_ version: Int16) -> Bool {
        requestType.isFlexible(version)
    }

    /// Request header v2 (with tagged fields) for flexible versions, v1 otherwise.
    public func requestHeaderVersion(_ version: Int16) -> Int16 {
        isFlexible(version) ? 2 : 1
    }

    /// Response header v1 for flexible versions, v0 otherwise; ApiVersions always answers with v0 (KIP-511),
    /// because the client cannot know the header version before it knows the server's versions.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        self == .apiVersions ? 0 : (isFlexible(version) ? 1 : 0)
    }
}
