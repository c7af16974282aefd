import Foundation
import MartletProtocol

/// `meta.properties` in each log directory, as Kafka writes it: the node id and cluster id the directory
/// belongs to, so a directory from another node or cluster is not silently adopted.
struct MetaProperties: Equatable {
    var nodeId: Int32
    var clusterId: String
    var directoryId: String

    static func load(directory: String) throws -> MetaProperties? {
        let path = directory + "/meta.properties"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let entries = Dictionary(try PropertiesFile.parse(text).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        guard let node = entries["node.id"].flatMap(Int32.init), let cluster = entries["cluster.id"] else {
            throw ConfigError.file(path, "meta.properties lacks node.id or cluster.id")
        }
        return MetaProperties(nodeId: node, clusterId: cluster, directoryId: entries["directory.id"] ?? KafkaUUID.random().description)
    }

    func store(directory: String) throws {
        let text = "#\n#Written by Martlet\nversion=1\nnode.id=\(nodeId)\ncluster.id=\(clusterId)\ndirectory.id=\(directoryId)\n"
        try AtomicFile.write(Data(text.utf8), to: directory + "/meta.properties")
    }

    /// Reads or creates meta.properties in every log dir; all must agree on node and cluster.
    static func ensure(directories: [String], nodeId: Int32, configuredClusterId: String?) throws -> String {
        var clusterId = configuredClusterId
        var found: [(String, MetaProperties)] = []
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let properties = try load(directory: directory) { found.append((directory, properties)) }
        }
        for (directory, properties) in found {
            guard properties.nodeId == nodeId else {
                throw ConfigError.invalidValue("node.id", String(nodeId), "log dir \(directory) belongs to node \(properties.nodeId)")
            }
            if let existing = clusterId, existing != properties.clusterId {
                throw ConfigError.invalidValue("cluster.id", existing, "log dir \(directory) belongs to cluster \(properties.clusterId)")
            }
            clusterId = properties.clusterId
        }
        let cluster = clusterId ?? KafkaUUID.random().description
        for directory in directories where !found.contains(where: { $0.0 == directory }) {
            try MetaProperties(nodeId: nodeId, clusterId: cluster, directoryId: KafkaUUID.random().description).store(directory: directory)
        }
        return cluster
    }
}
