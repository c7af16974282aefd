import ArgumentParser
import Foundation
import MartletClients
import MartletProtocol

/// `martlet cluster brokers`: the brokers a broker's Metadata lists (the registered, unfenced ones), one
/// line each as `kcat -L` prints them, with the one that answered and the cluster id.
struct BrokersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brokers",
        abstract: "List the brokers serving the cluster (from a broker's Metadata)."
    )

    @Option(name: .customLong("bootstrap-server"), help: "HOST:PORT of a broker.")
    var bootstrapServer: String

    @Option(help: "How long to wait for the broker, in milliseconds.")
    var timeoutMs: Int64 = 5000

    func run() async throws {
        guard let colon = bootstrapServer.lastIndex(of: ":"), let port = Int(bootstrapServer[bootstrapServer.index(after: colon)...]) else {
            throw ValidationError("invalid --bootstrap-server '\(bootstrapServer)': expected HOST:PORT")
        }
        let connection = KafkaConnection(host: String(bootstrapServer[..<colon]), port: port, clientId: "martlet-cluster-brokers")
        defer { Task { await connection.close() } }
        let response: MetadataResponse
        do {
            response = try await connection.send(MetadataRequest(topics: []), version: 12, timeoutMs: timeoutMs)
        } catch {
            FileHandle.standardError.write(Data("martlet: \(bootstrapServer) did not answer: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print("cluster \(response.clusterId ?? "?"), \(response.brokers.count) broker(s):")
        for broker in response.brokers.sorted(by: { $0.nodeId < $1.nodeId }) {
            print("broker \(broker.nodeId) at \(broker.host):\(broker.port)\(broker.rack.map { " rack \($0)" } ?? "")")
        }
    }
}
