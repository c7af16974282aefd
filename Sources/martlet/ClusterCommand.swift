import ArgumentParser

/// `martlet cluster`: the cluster-wide tools (`kafka-metadata-quorum`, later `kafka-cluster`).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect the cluster.",
        subcommands: [QuorumCommand.self]
    )
}
