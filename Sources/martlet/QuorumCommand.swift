import ArgumentParser
import Foundation
import MartletClients
import MartletProtocol
import MartletReplication

/// `martlet cluster quorum`: DescribeQuorum against the controllers, printed as
/// `kafka-metadata-quorum describe --status` (default) or `--replication` prints it. Any controller
/// will do: one that does not lead names the leader, which is asked next.
struct QuorumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum",
        abstract: "Describe the KRaft controller quorum (like kafka-metadata-quorum describe)."
    )

    @Option(name: .customLong("bootstrap-controller"), help: "HOST:PORT[,HOST:PORT...] of controllers.")
    var bootstrapController: String

    @Flag(help: "Print the leader, epoch, high watermark, lag and the voters (the default).")
    var status = false

    @Flag(help: "Print one line per voter and observer: log end offset, lag, last fetch and caught-up times.")
    var replication = false

    @Option(help: "How long to wait for each controller, in milliseconds.")
    var timeoutMs: Int64 = 5000

    func run() async throws {
        var candidates = try bootstrapController.split(separator: ",").map { text -> (String, Int) in
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                throw ValidationError("invalid --bootstrap-controller '\(text)': expected HOST:PORT")
            }
            return (String(text[..<colon]), port)
        }
        var tried: Set<String> = []
        var problems: [String] = []
        while let (host, port) = candidates.first {
            candidates.removeFirst()
            guard tried.insert("\(host):\(port)").inserted else { continue }
            let connection = KafkaConnection(host: host, port: port, clientId: "martlet-cluster-quorum")
            defer { Task { await connection.close() } }
            let response: DescribeQuorumResponse
            do {
                let request = DescribeQuorumRequest(topics: [
                    .init(topicName: RaftWireContext.metadataTopic, partitions: [.init(partitionIndex: RaftWireContext.metadataPartition)])
                ])
                response = try await connection.send(request, version: 2, timeoutMs: timeoutMs)
            } catch {
                problems.append("\(host):\(port): \(error)")
                continue
            }
            do {
                let description = try RaftWire.quorumDescription(from: response)
                print(replication ? Self.replicationTable(description) : Self.statusText(description), terminator: "")
                return
            } catch {
                problems.append("\(host):\(port): \(error)")
                candidates = response.nodes.flatMap { node in node.listeners.map { ($0.host, Int($0.port)) } } + candidates
            }
        }
        FileHandle.standardError.write(Data("martlet: no active controller answered: \(problems.joined(separator: "; "))\n".utf8))
        throw ExitCode(1)
    }

    /// `--status`, in Kafka's layout.
    static func statusText(_ quorum: QuorumDescription) -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let followers = quorum.voters.filter { $0.replicaId != quorum.leaderId }
        let maxLag = followers.map { quorum.lag(of: $0) }.max() ?? 0
        let maxLagTime = followers.map { $0.lastCaughtUpMs < 0 ? 0 : max(0, now - $0.lastCaughtUpMs) }.max() ?? 0
        func ids(_ replicas: [QuorumDescription.Replica]) -> String {
            "[" + replicas.map { "{\"id\": \($0.replicaId)}" }.joined(separator: ", ") + "]"
        }
        return """
            LeaderId:               \(quorum.leaderId)
            LeaderEpoch:            \(quorum.epoch)
            HighWatermark:          \(quorum.highWatermark)
            MaxFollowerLag:         \(maxLag)
            MaxFollowerLagTimeMs:   \(maxLagTime)
            CurrentVoters:          \(ids(quorum.voters))
            CurrentObservers:       \(ids(quorum.observers))

            """
    }

    /// `--replication`: one row per replica, leader first, with how far each trails the leader.
    static func replicationTable(_ quorum: QuorumDescription) -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        func ago(_ ms: Int64) -> String { ms < 0 ? "-" : "\(max(0, now - ms)) ms ago" }
        var rows = [["NodeId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"]]
        let voters = quorum.voters.sorted { ($0.replicaId == quorum.leaderId ? 0 : 1, $0.replicaId) < ($1.replicaId == quorum.leaderId ? 0 : 1, $1.replicaId) }
        for (replica, status) in voters.map({ ($0, $0.replicaId == quorum.leaderId ? "Leader" : "Follower") })
            + quorum.observers.map({ ($0, "Observer") })
        {
            rows.append([
                "\(replica.replicaId)", "\(replica.logEndOffset)", "\(quorum.lag(of: replica))", ago(replica.lastFetchMs),
                ago(replica.lastCaughtUpMs), status,
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
