import Foundation

/// Where InitProducerId gets fresh producer ids: never the same one twice in the cluster.
public protocol ProducerIdSource: Sendable {
    func next() async throws -> Int64
}

/// Hands out producer ids, never the same one twice, even across restarts: ids are reserved in blocks of
/// `blockSize` by persisting the block's end before any id in it is used (as AllocateProducerIds does with
/// ProducerIdsRecord), so a crash wastes at most one block.
public actor ProducerIdAllocator: ProducerIdSource {
    public static let blockSize: Int64 = 1000

    private let path: String
    private var nextId: Int64
    private var reservedEnd: Int64

    public init(directory: String) throws {
        path = directory + "/martlet-producer-ids"
        let stored = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        nextId = stored ?? 0
        reservedEnd = nextId
    }

    public func next() throws -> Int64 {
        if nextId >= reservedEnd {
            reservedEnd = nextId + Self.blockSize
            try AtomicFile.write(Data("\(reservedEnd)\n".utf8), to: path)
        }
        defer { nextId += 1 }
        return nextId
    }
}
