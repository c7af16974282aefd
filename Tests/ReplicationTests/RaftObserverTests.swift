import MartletProtocol
import Testing

@testable import MartletReplication

@Suite("Raft observers")
struct RaftObserverTests {
    @Test("an observer whose leader cannot be reached finds the next leader through the voters right after its election")
    func observerFollowsTheNextLeader() throws {
        var cluster = RaftTestHarness(voters: [1, 2, 3], observers: [4])
        cluster.reportUnreachable = true
        let elected = cluster.electLeader()
        let first = try #require(elected)
        cluster.run(forMs: 500)
        #expect(cluster[4].role == .follower && cluster[4].currentLeader == first)

        cluster.nodes[first] = nil
        let electedAgain = cluster.electLeader()
        let second = try #require(electedAgain)
        let electedAt = cluster.now
        while cluster[4].currentLeader != second && cluster.now < electedAt + 5_000 { cluster.run(forMs: 10) }
        #expect(cluster[4].currentLeader == second)
        // Without the unreachable report the observer waits out its fetch timeout and then a request
        // timeout per voter it asks: seconds. With it, one error backoff per voter at most.
        #expect(cluster.now - electedAt <= 1_100, "followed after \(cluster.now - electedAt) ms")
        #expect(cluster[4].logEndOffset == cluster[second].logEndOffset)
    }
}
