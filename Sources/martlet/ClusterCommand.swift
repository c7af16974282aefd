import ArgumentParser

/// `martlet cluster`: the cluster-wide tools (`kafka-metadata-quorum`, the broker list).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the cluster.",
        subcommands: [QuorumCommand.self, BrokersCommand.self]
    )
}
