import Foundation

/// The spec set: every `*.json` under spec/kafka's subfolders, sorted by path so output is stable.
enum SpecCatalog {
    static func load(from directory: URL) throws -> [MessageSpec] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else {
            throw GeneratorError("cannot read \(directory.path)")
        }
        let paths = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }.sorted()
        var specs: [MessageSpec] = []
        var seen: [String: String] = [:]
        for path in paths {
            let spec = try SpecLoader.load(path: directory.appendingPathComponent(path).path, relativePath: path)
            if let previous = seen[spec.name] {
                throw GeneratorError("\(spec.name) is defined by both \(previous) and \(path)")
            }
            seen[spec.name] = path
            specs.append(spec)
        }
        return specs
    }
}
