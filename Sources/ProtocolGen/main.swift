import Foundation

/// ProtocolGen: Kafka's JSON message specs -> Swift codecs.
///
///     martlet-protocol-gen <spec dir> <output dir> <samples file> [--check]
///
/// Writes one file per message into <output dir> and the round-trip samples into <samples file>. With
/// `--check` it writes nothing and exits 1 if any committed file differs from what it would write.
let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--check" }
let checkOnly = CommandLine.arguments.contains("--check")
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: martlet-protocol-gen <spec dir> <output dir> <samples file> [--check]\n".utf8))
    exit(2)
}
let specDirectory = URL(fileURLWithPath: arguments[arguments.startIndex])
let outputDirectory = URL(fileURLWithPath: arguments[arguments.startIndex + 1])
let samplesFile = URL(fileURLWithPath: arguments[arguments.startIndex + 2])

do {
    let specs = try SpecCatalog.load(from: specDirectory)
    var outputs: [URL: String] = [:]
    let responseNames = Set(specs.filter { $0.kind == .response }.map(\.name))
    for spec in specs {
        outputs[outputDirectory.appendingPathComponent("\(spec.name).swift")] =
            StructEmitter(message: spec, responseNames: responseNames).render()
    }
    outputs[outputDirectory.appendingPathComponent("ApiKey.swift")] =
        ApiKeyEmitter(requests: specs.filter { $0.kind == .request }, responseNames: responseNames).render()
    outputs[samplesFile] = SampleEmitter(messages: specs).render()

    let existing = Set(((try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? [])
        .filter { $0.hasSuffix(".swift") }
        .map { outputDirectory.appendingPathComponent($0).standardizedFileURL })
    let stale = existing.subtracting(outputs.keys.map(\.standardizedFileURL))
    var differences: [String] = stale.map { "stale: \($0.path)" }
    for (url, text) in outputs.sorted(by: { $0.key.path < $1.key.path }) {
        let current = try? String(contentsOf: url, encoding: .utf8)
        guard current != text else { continue }
        differences.append("\(current == nil ? "missing" : "differs"): \(url.path)")
        if !checkOnly {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }
    if !checkOnly {
        for url in stale { try FileManager.default.removeItem(at: url) }
    }
    if checkOnly && !differences.isEmpty {
        print("Generated code is out of date; run `make generate`:")
        differences.forEach { print("  \($0)") }
        exit(1)
    }
    print("\(specs.count) specs, \(outputs.count) files, \(differences.count) \(checkOnly ? "differences" : "written")")
} catch {
    FileHandle.standardError.write(Data("martlet-protocol-gen: \(error)\n".utf8))
    exit(1)
}
