import MartletReplication

/// The controller side of a Raft leader (Kafka's `QuorumController` activation): whether this node may run
/// commands, the `ControllerState` they run on, and the requests waiting for their records to commit.
///
/// Owned by the `RaftDriver` and only touched on its actor. A node becomes active only once its own epoch
/// has committed (the high watermark passed the log end it had on election), so the committed image it
/// starts from holds everything earlier leaders wrote; it stops at once when it leaves that leadership,
/// failing every waiter, because its uncommitted future may be truncated by the next leader.
public struct ActiveController: Sendable {
    /// How long a command waits for its records to commit before it is answered NOT_CONTROLLER; a leader
    /// cut off from the quorum resigns well before this (check-quorum), so it only bounds the odd stall.
    static let commitTimeoutMs: Int64 = 15_000

    let config: ControllerConfig
    /// The committed image (the applier's), read when this node becomes active.
    let committedImage: @Sendable () -> MetadataImage
    /// The state commands run on, nil while not active.
    private(set) var state: ControllerState?
    /// The epoch this node leads and the log end it had when elected; nil when not leader.
    private(set) var leadership: (epoch: Int32, endOffset: Int64)?
    /// The offset of the last record any command of this leadership proposed: a command that writes
    /// nothing still read the uncommitted future, so it is answered only once this commits.
    private(set) var lastWrittenOffset: Int64 = -1
    private var waiters: [Waiter] = []

    private struct Waiter {
        var offset: Int64
        var deadline: Int64
        /// Resumes the request: true once committed, false when leadership was lost or time ran out.
        var finish: @Sendable (_ committed: Bool) -> Void
    }

    public init(config: ControllerConfig, committedImage: @escaping @Sendable () -> MetadataImage) {
        self.config = config
        self.committedImage = committedImage
    }

    /// Follows the core's role: a new epoch or a lost leadership ends any activity of the old one.
    mutating func observe(isLeader: Bool, epoch: Int32, logEndOffset: Int64) {
        if let leadership, isLeader, leadership.epoch == epoch { return }
        if leadership != nil || state != nil { deactivate() }
        leadership = isLeader ? (epoch, logEndOffset) : nil
    }

    /// Whether this node leads, is not active yet, and its epoch has committed.
    func shouldActivate(highWatermark: Int64) -> Bool {
        guard state == nil, let leadership else { return false }
        return highWatermark >= leadership.endOffset
    }

    mutating func activate(_ state: ControllerState, highWatermark: Int64) {
        self.state = state
        lastWrittenOffset = highWatermark - 1
    }

    /// Takes the state a command left, whose records were proposed up to `lastOffset` (nil: none).
    mutating func adopt(_ state: ControllerState, lastOffset: Int64?) {
        self.state = state
        if let lastOffset { lastWrittenOffset = max(lastWrittenOffset, lastOffset) }
    }

    mutating func wait(for offset: Int64, deadline: Int64, finish: @escaping @Sendable (_ committed: Bool) -> Void) {
        waiters.append(Waiter(offset: offset, deadline: deadline, finish: finish))
    }

    /// Answers the requests whose records are all below the high watermark.
    mutating func committed(highWatermark: Int64) {
        let done = waiters.filter { $0.offset < highWatermark }
        guard !done.isEmpty else { return }
        waiters.removeAll { $0.offset < highWatermark }
        for waiter in done { waiter.finish(true) }
    }

    /// Refuses the requests that waited past their deadline.
    mutating func expire(now: Int64) {
        let late = waiters.filter { $0.deadline <= now }
        guard !late.isEmpty else { return }
        waiters.removeAll { $0.deadline <= now }
        for waiter in late { waiter.finish(false) }
    }

    /// Stops running commands and refuses everything still waiting.
    mutating func deactivate() {
        state = nil
        leadership = nil
        lastWrittenOffset = -1
        let pending = waiters
        waiters = []
        for waiter in pending { waiter.finish(false) }
    }
}
