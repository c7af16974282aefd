import MartletBroker
import MartletProtocol
import MartletReplication
import NIOCore
import Testing

@Suite("Group coordinator: committed offsets")
struct OffsetTests {
    let tooLong = String(repeating: "x", count: 4_097)

    @Test("a consumer outside any group commits into a new simple group, and fetches the offsets back")
    func simpleCommitAndFetch() throws {
        var driver = GroupTestDriver(groupId: "tool")
        driver.now = 1_000
        let errors = driver.commit([("orders", 0, 42, "meta"), ("orders", 1, 7, nil), ("audit", 3, 9, tooLong)])
        #expect(errors == [KafkaErrorCode.offsetMetadataTooLarge.rawValue, 0, 0], "topics answered in order: audit, orders")
        #expect(driver.group?.state == .empty && driver.group?.protocolType == nil)
        #expect(driver.log.count == 2, "one record per accepted partition, none for the rejected one")
        guard case .offsetCommit(let key, let value?) = driver.log.first else { Issue.record("no record"); return }
        #expect(key.group == "tool" && key.topic == "orders" && key.partition == 0)
        #expect(value.offset == 42 && value.metadata == "meta" && value.leaderEpoch == 3 && value.commitTimestamp == 1_000)

        let fetched = driver.state.fetchOffsets(groupId: "tool", topics: [("orders", [0, 1, 2])])
        let partitions = try #require(fetched.topics.first).partitions
        #expect(partitions.map(\.committedOffset) == [42, 7, -1])
        #expect(partitions.map(\.metadata) == ["meta", "", ""])
        #expect(partitions.map(\.committedLeaderEpoch) == [3, 3, -1])

        let all = driver.state.fetchOffsets(groupId: "tool", topics: nil)
        #expect(all.topics.map(\.name) == ["orders"])
        let unknown = driver.state.fetchOffsets(groupId: "nobody", topics: [("orders", [0])])
        #expect(unknown.errorCode == 0 && unknown.topics.first?.partitions.first?.committedOffset == -1)
    }

    @Test("metadata of exactly offset.metadata.max.bytes is accepted")
    func metadataLimit() {
        var driver = GroupTestDriver(groupId: "tool")
        let errors = driver.commit([("t", 0, 1, String(repeating: "y", count: 4_096))])
        #expect(errors == [0])
    }

    @Test("members of a live group commit with their generation; others are refused")
    func commitValidation() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        #expect(driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 10, nil)]) == [0])
        #expect(driver.commit(memberId: ids[0], generation: 0, [("orders", 0, 10, nil)]) == [KafkaErrorCode.illegalGeneration.rawValue])
        #expect(driver.commit(memberId: "who", generation: 1, [("orders", 0, 10, nil)]) == [KafkaErrorCode.unknownMemberId.rawValue])
        #expect(driver.commit([("orders", 0, 10, nil)]) == [KafkaErrorCode.unknownMemberId.rawValue],
                "a commit without generation only goes into an Empty group")

        // CompletingRebalance: the member has the new generation but no assignment yet.
        driver.join(memberId: ids[0])
        #expect(driver.commit(memberId: ids[1], generation: 1, [("orders", 1, 5, nil)]) == [0],
                "PreparingRebalance: the previous generation may still commit")
        driver.join(memberId: ids[1])
        #expect(driver.group?.state == .completingRebalance)
        #expect(driver.commit(memberId: ids[1], generation: 2, [("orders", 1, 6, nil)]) == [KafkaErrorCode.rebalanceInProgress.rawValue])
    }

    @Test("a commit to an unknown group with a generation: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before")
    func commitUnknownGroup() {
        var driver = GroupTestDriver(groupId: "gone")
        #expect(driver.commit(memberId: "m", generation: 3, [("t", 0, 1, nil)], version: 9) == [KafkaErrorCode.groupIdNotFound.rawValue])
        #expect(driver.commit(memberId: "m", generation: 3, [("t", 0, 1, nil)], version: 8) == [KafkaErrorCode.illegalGeneration.rawValue])
        #expect(driver.group == nil)
    }

    @Test("committing keeps a member's session alive")
    func commitExtendsSession() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)
        driver.advance(to: 12_000)
        _ = driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 1, nil)])
        #expect(driver.group?.member(ids[0])?.heartbeatDeadlineMs == 22_000)
    }

    @Test("OffsetDelete: refused for subscribed topics and for live non-consumer groups; tombstones otherwise")
    func deleteOffsets() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 1)   // subscribed to "orders"
        _ = driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 1, nil), ("legacy", 0, 2, nil), ("legacy", 1, 3, nil)])
        let outcome = driver.state.deleteOffsets(OffsetDeleteRequest(groupId: "g", topics: [
            .init(name: "orders", partitions: [.init(partitionIndex: 0)]),
            .init(name: "legacy", partitions: [.init(partitionIndex: 0), .init(partitionIndex: 9)]),
        ]))
        #expect(outcome.response.errorCode == 0)
        #expect(outcome.response.topics[0].partitions.map(\.errorCode) == [KafkaErrorCode.groupSubscribedToTopic.rawValue])
        #expect(outcome.response.topics[1].partitions.map(\.errorCode) == [0, 0])
        #expect(outcome.effects.records == [.offsetCommit(OffsetCommitKey(group: "g", topic: "legacy", partition: 0), nil)])
        #expect(driver.state.offsets["g", "legacy", 0] == nil)
        #expect(driver.state.offsets["g", "legacy", 1]?.offset == 3)

        let missing = driver.state.deleteOffsets(OffsetDeleteRequest(groupId: "none", topics: []))
        #expect(missing.response.errorCode == KafkaErrorCode.groupIdNotFound.rawValue)

        var connect = GroupTestDriver(groupId: "c")
        _ = connect.joinNew(clientId: "w")
        let live = connect.state.deleteOffsets(OffsetDeleteRequest(groupId: "c", topics: []))
        #expect(connect.group?.protocolType == "consumer")
        #expect(live.response.errorCode == 0, "a consumer group may delete offsets of topics it does not use")
        var other = GroupTestDriver(groupId: "k")
        _ = other.join(protocolType: "connect", protocols: [("default", ByteBuffer())], version: 3)
        let refused = other.state.deleteOffsets(OffsetDeleteRequest(groupId: "k", topics: []))
        #expect(refused.response.errorCode == KafkaErrorCode.nonEmptyGroup.rawValue)
    }

    @Test("DeleteGroups: only Empty groups go, with tombstones for every offset and the group")
    func deleteGroups() throws {
        var driver = GroupTestDriver()
        _ = driver.stableGroup(count: 1)
        var state = driver.state
        _ = state.commitOffsets(OffsetCommitRequest(groupId: "idle", topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 5), .init(partitionIndex: 1, committedOffset: 6)]),
        ]), apiVersion: 9, now: 100)
        let outcome = state.deleteGroups(["g", "idle", "nope", ""])
        #expect(outcome.response.map(\.errorCode) == [
            KafkaErrorCode.nonEmptyGroup.rawValue, 0, KafkaErrorCode.groupIdNotFound.rawValue, KafkaErrorCode.invalidGroupId.rawValue,
        ])
        #expect(outcome.effects.records == [
            .offsetCommit(OffsetCommitKey(group: "idle", topic: "t", partition: 0), nil),
            .offsetCommit(OffsetCommitKey(group: "idle", topic: "t", partition: 1), nil),
            .groupMetadata(GroupMetadataKey(group: "idle"), nil),
        ])
        #expect(state.group("idle") == nil && !state.offsets.hasOffsets(for: "idle"))
    }

    @Test("offsets of an Empty group expire offsets.retention.minutes after it went Empty; then the group goes")
    func retention() throws {
        var config = GroupCoordinatorConfig()
        config.offsetsRetentionMs = 60_000
        var driver = GroupTestDriver(config: config)
        let ids = driver.stableGroup(count: 1)
        _ = driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 10, nil)])
        driver.now = 4_000
        _ = driver.leave([.init(memberId: ids[0])])
        #expect(driver.group?.state == .empty && driver.group?.currentStateTimestampMs == 4_000)

        driver.absorb(driver.state.expireOffsets(now: 63_999))
        #expect(driver.state.offsets["g", "orders", 0] != nil)
        let before = driver.log.count
        driver.absorb(driver.state.expireOffsets(now: 64_000))
        #expect(Array(driver.log[before...]) == [
            .offsetCommit(OffsetCommitKey(group: "g", topic: "orders", partition: 0), nil),
            .groupMetadata(GroupMetadataKey(group: "g"), nil),
        ])
        #expect(driver.group == nil)
    }

    @Test("a live group's offsets are kept; an explicit retention time (v2-4) expires an offset on its own")
    func retentionLiveGroupAndExplicitExpiry() throws {
        var config = GroupCoordinatorConfig()
        config.offsetsRetentionMs = 60_000
        var driver = GroupTestDriver(config: config)
        let ids = driver.stableGroup(count: 1)
        _ = driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 10, nil)])
        driver.absorb(driver.state.expireOffsets(now: 10_000_000))
        #expect(driver.state.offsets["g", "orders", 0] != nil, "subscribed topic of a Stable consumer group")

        var simple = GroupTestDriver(groupId: "s", config: config)
        simple.now = 1_000
        _ = simple.commit([("t", 0, 1, nil)], version: 4, retentionTimeMs: 5_000)
        let stored = try #require(simple.state.offsets["s", "t", 0])
        #expect(stored.expireTimestampMs == 6_000 && stored.recordValueVersion == 1)
        simple.absorb(simple.state.expireOffsets(now: 5_999))
        #expect(simple.state.offsets["s", "t", 0] != nil)
        simple.absorb(simple.state.expireOffsets(now: 6_000))
        #expect(simple.state.offsets["s", "t", 0] == nil && simple.group == nil)
    }

    @Test("OffsetFetch before v8 puts a group error at the top (v2+) or on each partition (v1)")
    func fetchOldVersions() throws {
        let state = GroupCoordinatorState(random: SplitMix64(seed: 1))
        let request = OffsetFetchRequest(groupId: "", topics: [.init(name: "t", partitionIndexes: [0])])
        let v1 = state.fetchOffsets(request, apiVersion: 1)
        let v2 = state.fetchOffsets(request, apiVersion: 2)
        #expect(v2.errorCode == KafkaErrorCode.invalidGroupId.rawValue)
        #expect(v1.errorCode == KafkaErrorCode.invalidGroupId.rawValue)
        #expect(v1.topics.isEmpty, "no group, no partitions to report")
        let v8 = state.fetchOffsets(OffsetFetchRequest(groups: [.init(groupId: "x", topics: nil)]), apiVersion: 8)
        #expect(v8.groups.map(\.groupId) == ["x"] && v8.groups[0].topics.isEmpty)
    }
}
