import ArgumentParser

/// `martlet`: one executable for every role and tool (DESIGN.md, "Running it").
@main
struct Martlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "martlet",
        abstract: "A Kafka-compatible, partitioned, replicated log broker.",
        subcommands: [ServerCommand.self, ClusterCommand.self]
    )
}
