// swift-tools-version: 6.1
import PackageDescription

/// Martlet: a Kafka-compatible, partitioned, replicated log broker.
///
/// Module boundaries carry the design (see README.md): `MartletProtocol` knows bytes, not sockets.
let package = Package(
    name: "Martlet",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MartletProtocol", targets: ["MartletProtocol"]),
        .executable(name: "martlet", targets: ["martlet"]),
        .library(name: "MartletBroker", targets: ["MartletBroker"]),
        .executable(name: "martlet-protocol-gen", targets: ["ProtocolGen"]),
        .executable(name: "martlet-fuzz-protocol", targets: ["ProtocolFuzzer"]),
        .executable(name: "martlet-bench-protocol", targets: ["ProtocolBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The system compression libraries (Debian: zlib1g-dev, libsnappy-dev, liblz4-dev, libzstd-dev).
        .systemLibrary(
            name: "CCompressionLibs",
            path: "Sources/CCompressionLibs",
            providers: [.apt(["zlib1g-dev", "libsnappy-dev", "liblz4-dev", "libzstd-dev"])]
        ),
        // CRC-32C with the CPU's CRC instruction where present (SSE 4.2 / ARMv8 CRC), table fallback otherwise.
        .target(name: "CCRC32C", path: "Sources/CCRC32C"),
        .target(
            name: "MartletProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "CCompressionLibs",
                "CCRC32C",
            ],
            path: "Sources/Protocol"
        ),
        // The server: wires the protocol to NIO and the disk.
        .target(
            name: "MartletBroker",
            dependencies: [
                "MartletProtocol",
                "MartletReplication",
                "MartletClients",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Broker",
            exclude: ["README.md"]
        ),
        // Martlet's own client: connections with correlation ids (later producer, consumer, admin).
        .target(
            name: "MartletClients",
            dependencies: [
                "MartletProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Clients",
            exclude: ["README.md"]
        ),
        // The one executable: `martlet server|...`.
        .executableTarget(
            name: "martlet",
            dependencies: [
                "MartletBroker",
                "MartletClients",
                "MartletProtocol",
                "MartletReplication",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/martlet"
        ),
        // Raft (KRaft) as a pure state machine: messages and ticks in, what to persist, send and apply out.
        .target(
            name: "MartletReplication",
            dependencies: ["MartletProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Replication",
            exclude: ["README.md"]
        ),
        .executableTarget(name: "ProtocolGen", path: "Sources/ProtocolGen"),
        // libFuzzer target over frame + request decoding (`make fuzz`); a corpus replayer otherwise.
        .target(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
        .executableTarget(
            name: "ProtocolFuzzer",
            dependencies: ["MartletProtocol", "CFuzzerDriver", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/ProtocolFuzzer"
        ),
        // `make bench`: release-build benchmarks of the protocol hot paths, as ratios to in-run baselines.
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: ["MartletProtocol", "CCRC32C", .product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/ProtocolBenchmarks"
        ),
        .testTarget(
            name: "ProtocolTests",
            dependencies: [
                "MartletProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/ProtocolTests",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "BrokerTests",
            dependencies: [
                "MartletBroker",
                "MartletClients",
                "MartletProtocol",
                "MartletReplication",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/BrokerTests"
        ),
        .testTarget(
            name: "ReplicationTests",
            dependencies: ["MartletReplication", "MartletProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ReplicationTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
