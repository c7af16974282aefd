import MartletProtocol

/// The active controller's logic (Kafka's `QuorumController` and its control managers) as a value over a
/// `MetadataImage`. Each command validates against the image, returns the records to append and the
/// response to send once they commit, and applies those records to its own image at once, so the next
/// command sees them (KRaft's "future state"). The driver passes the offset the first record will get.
/// If the controller loses leadership its uncommitted future is void: the driver builds a new
/// `ControllerState` from the committed image.
///
/// No clocks inside: time comes in as milliseconds, and randomness (topic ids, placement offsets) from a
/// seeded generator, so a run replays exactly.
public struct ControllerState: Sendable {
    public private(set) var image: MetadataImage
    public let config: ControllerConfig
    /// Heartbeat bookkeeping, soft state kept only by the active controller (`BrokerHeartbeatManager`).
    var sessions: [Int32: BrokerSession] = [:]
    var random: SplitMix64

    /// Takes over `image` at `now`: every registered broker starts a fresh session, as Kafka's controller
    /// does on activation, so a failover never fences brokers that were heartbeating to the old leader.
    public init(image: MetadataImage, config: ControllerConfig, now: Int64, random: SplitMix64) {
        self.image = image
        self.config = config
        self.random = random
        for id in image.brokers.keys { sessions[id] = BrokerSession(lastContactMs: now) }
    }

    /// Applies a record this controller is emitting, at the next offset of `batch`. The commands only emit
    /// records they have validated against this very image, so a refusal is a bug in the controller.
    mutating func emit(_ record: MetadataRecord, into batch: inout PendingRecords) {
        do {
            try image.apply(record, at: batch.nextOffset)
        } catch {
            preconditionFailure("controller emitted \(record), which its own image refuses: \(error)")
        }
        batch.records.append(record)
    }
}

extension ControllerState {
    /// The values that occur more than once, which Kafka refuses individually rather than failing the request.
    static func repeated<Value: Hashable>(_ values: [Value]) -> Set<Value> {
        var seen: Set<Value> = []
        return Set(values.filter { !seen.insert($0).inserted })
    }
}

/// The records one command emits, with the offsets they will take in the log.
struct PendingRecords {
    let firstOffset: Int64
    var records: [MetadataRecord] = []

    init(firstOffset: Int64) { self.firstOffset = firstOffset }

    var nextOffset: Int64 { firstOffset + Int64(records.count) }
}

/// What the controller remembers about a broker between heartbeats.
struct BrokerSession: Hashable, Sendable {
    var lastContactMs: Int64
    /// The last `CurrentMetadataOffset` the broker reported, -1 before its first heartbeat.
    var metadataOffset: Int64 = -1
    /// The offset of the last record that moved the broker into controlled shutdown: it may stop once every
    /// active broker has replayed that far, so none of them still routes to it.
    var controlledShutdownOffset: Int64?
}
