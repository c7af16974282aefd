/// One entry of `controller.quorum.voters`, Kafka's `id@host:port` (`QuorumConfig.parseVoterConnections`).
public struct QuorumVoter: Hashable, Sendable, CustomStringConvertible {
    public var id: Int32
    public var host: String
    public var port: Int

    public init(id: Int32, host: String, port: Int) {
        self.id = id
        self.host = host
        self.port = port
    }

    public var description: String { "\(id)@\(host):\(port)" }

    /// `id@host:port`, with an IPv6 host in brackets; nil if malformed.
    public static func parse(_ text: String) -> QuorumVoter? {
        let parts = text.trimmingWhitespace.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let id = Int32(parts[0]), id >= 0, let colon = parts[1].lastIndex(of: ":") else { return nil }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(parts[1][parts[1].index(after: colon)...]), (1...65535).contains(port) else { return nil }
        return QuorumVoter(id: id, host: host, port: port)
    }

    /// The whole list; nil if any entry is malformed or an id appears twice.
    public static func parseList(_ text: String) -> [QuorumVoter]? {
        let items = text.split(separator: ",").map { parse(String($0)) }
        guard !items.isEmpty, items.allSatisfy({ $0 != nil }) else { return nil }
        let voters = items.map { $0! }
        guard Set(voters.map(\.id)).count == voters.count else { return nil }
        return voters
    }

    static func validateList(_ text: String) -> String? {
        parseList(text) == nil ? "expected id@host:port[,id@host:port...] with distinct ids" : nil
    }
}
