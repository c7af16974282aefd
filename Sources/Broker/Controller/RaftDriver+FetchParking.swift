import MartletReplication

/// A fetch from a caught-up replica, held by the leader (Kafka's fetch purgatory).
struct ParkedFetch {
    var deadlineMs: Int64
    /// The leader's log end and high watermark when the fetch was parked: a change in either is news.
    var logEndOffset: Int64
    var highWatermark: Int64
    var resume: CheckedContinuation<Void, Never>
}

/// Long polling for Fetch on `__cluster_metadata`: a leader with nothing new for a replica holds its fetch
/// for up to `fetchMaxWaitMs` and answers as soon as the log grows or the high watermark moves, as Kafka's
/// Raft client does. Followers therefore fetch again right away, and an entry reaches every replica (and
/// commits) within round trips instead of waiting for the next poll. The core stays a pure state machine:
/// the held fetch is simply stepped again when released.
extension RaftDriver {
    /// Kafka's `fetch.max.wait.ms` for the metadata log; well under `controller.quorum.fetch.timeout.ms`.
    static let fetchMaxWaitMs: Int64 = 500

    /// Returns when there is news for the parked fetch, its wait is over, or the driver stops.
    func parkFetch() async {
        let (end, highWatermark, deadline) = (node.logEndOffset, node.highWatermark, Self.nowMs() + Self.fetchMaxWaitMs)
        await withCheckedContinuation { continuation in
            parkedFetches.append(ParkedFetch(deadlineMs: deadline, logEndOffset: end, highWatermark: highWatermark, resume: continuation))
        }
    }

    /// Releases the fetches that have news, are past their deadline at `now` (nil: check news only), or
    /// face a node that no longer leads.
    func releaseParkedFetches(now: Int64?) {
        guard !parkedFetches.isEmpty else { return }
        let leading = node.role == .leader
        let (end, highWatermark) = (node.logEndOffset, node.highWatermark)
        var held: [ParkedFetch] = []
        for fetch in parkedFetches {
            let due = !leading || fetch.logEndOffset != end || fetch.highWatermark != highWatermark || (now.map { $0 >= fetch.deadlineMs } ?? false)
            if due { fetch.resume.resume() } else { held.append(fetch) }
        }
        parkedFetches = held
    }
}

extension RaftDriver {
    /// Whether `answer` tells `replica` nothing it does not know: no error, no entries, and the high
    /// watermark it was last sent. (Kafka 4.1 has the follower send its high watermark for this; Fetch
    /// v17 does not carry it, so the leader remembers what it sent.)
    func isNothingNew(_ answer: RaftMessage, for replica: ReplicaID) -> Bool {
        guard case .fetchResponse(let response) = answer, response.error == .none, case .records(let entries) = response.outcome else {
            return false
        }
        return entries.isEmpty && highWatermarkSent[replica] == response.highWatermark
    }
}
