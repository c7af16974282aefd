/// What a ConfigRecord configures: Kafka's `ConfigResource` (type and name; a broker's name is its id,
/// the empty broker name is the cluster-wide default).
public struct ConfigResource: Hashable, Sendable {
    /// The resource types that are stored in the metadata log, with `ConfigResource.Type` numbers.
    public enum Kind: Int8, Hashable, Sendable {
        case topic = 2
        case broker = 4
        case clientMetrics = 16
        case group = 32
    }

    public var kind: Kind
    public var name: String

    public init(_ kind: Kind, _ name: String) {
        self.kind = kind
        self.name = name
    }
}
