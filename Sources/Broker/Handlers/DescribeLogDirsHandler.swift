import Foundation
import MartletProtocol

/// DescribeLogDirs (key 35): each log directory with the size of every partition in it and the disk's
/// total and usable bytes.
struct DescribeLogDirsHandler: ApiHandler {
    typealias Request = DescribeLogDirsRequest
    let versions: ClosedRange<Int16> = 1...4
    let broker: BrokerCore

    typealias Result = DescribeLogDirsResponse.DescribeLogDirsResult

    func handle(_ request: DescribeLogDirsRequest, context: RequestContext) async -> HandlerOutcome<DescribeLogDirsResponse> {
        var wanted: [String: Set<Int32>]?
        if let topics = request.topics {
            wanted = [:]
            for topic in topics { wanted![topic.topic, default: []].formUnion(topic.partitions) }
        }
        var byDirectory: [String: [String: [DescribeLogDirsResponse.DescribeLogDirsPartition]]] = [:]
        for partition in broker.replicas.allPartitions() {
            let topicPartition = partition.topicPartition
            if let wanted, !(wanted[topicPartition.topic]?.contains(topicPartition.partition) ?? false) { continue }
            let size = await partition.sizeInBytes
            byDirectory[partition.logDirectory, default: [:]][topicPartition.topic, default: []].append(
                .init(partitionIndex: topicPartition.partition, partitionSize: size, offsetLag: 0, isFutureKey: false))
        }
        let results = broker.config.logDirectories.map { directory -> Result in
            let space = try? FileManager.default.attributesOfFileSystem(forPath: directory)
            let topics = (byDirectory[directory] ?? [:]).sorted { $0.key < $1.key }.map { name, partitions in
                DescribeLogDirsResponse.DescribeLogDirsTopic(name: name, partitions: partitions.sorted { $0.partitionIndex < $1.partitionIndex })
            }
            return Result(
                errorCode: 0, logDir: directory, topics: topics,
                totalBytes: (space?[.systemSize] as? NSNumber)?.int64Value ?? -1,
                usableBytes: (space?[.systemFreeSize] as? NSNumber)?.int64Value ?? -1)
        }
        return .respond(DescribeLogDirsResponse(throttleTimeMs: 0, errorCode: 0, results: results))
    }
}
