import MartletBroker
import MartletProtocol
import MartletReplication
import NIOCore
import Testing

@Suite("Group coordinator: records, codec and loading")
struct PersistenceTests {
    @Test("GroupMetadata and OffsetCommit records round-trip through the codec, tombstones included")
    func codecRoundTrip() throws {
        let value = GroupMetadataValue(
            protocolType: "consumer", generation: 7, protocol: "range", leader: "a-1", currentStateTimestamp: 1_234,
            members: [
                .init(memberId: "a-1", groupInstanceId: "i-a", clientId: "a", clientHost: "/10.0.0.1", rebalanceTimeout: 30_000,
                      sessionTimeout: 10_000, subscription: consumerSubscription(["t"]), assignment: ByteBuffer(string: "A")),
                .init(memberId: "b-2", groupInstanceId: nil, clientId: "b", clientHost: "/10.0.0.2", rebalanceTimeout: 30_000,
                      sessionTimeout: 10_000, subscription: consumerSubscription(["t"]), assignment: ByteBuffer()),
            ])
        let records: [GroupCoordinatorRecord] = [
            .groupMetadata(GroupMetadataKey(group: "g"), value),
            .groupMetadata(GroupMetadataKey(group: "g"), nil),
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3),
                          OffsetCommitValue(offset: 99, leaderEpoch: 4, metadata: "m", commitTimestamp: 5, expireTimestamp: -1)),
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3),
                          OffsetCommitValue(offset: 99, leaderEpoch: -1, metadata: "", commitTimestamp: 5, expireTimestamp: 77)),
            .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 3), nil),
        ]
        for record in records {
            let (key, encodedValue) = try GroupRecordCodec.encode(record)
            #expect((encodedValue == nil) == record.isTombstone)
            let decoded = try GroupRecordCodec.decode(key: key, value: encodedValue)
            #expect(decoded == record)
        }

        // Framing: int16 key version (1 offset commit, 2 group metadata) then the key; int16 value version.
        var (key, groupValue) = try GroupRecordCodec.encode(records[0])
        #expect(key.readInteger(endianness: .big, as: Int16.self) == 2)
        #expect(groupValue?.readInteger(endianness: .big, as: Int16.self) == 3)
        var (offsetKey, offsetValue) = try GroupRecordCodec.encode(records[2])
        #expect(offsetKey.readInteger(endianness: .big, as: Int16.self) == 1)
        #expect(offsetValue?.readInteger(endianness: .big, as: Int16.self) == 3)
        var (_, expiringValue) = try GroupRecordCodec.encode(records[3])
        #expect(expiringValue?.readInteger(endianness: .big, as: Int16.self) == 1, "only v1 carries the expire timestamp")
    }

    @Test("the codec reads every value version Kafka wrote and skips the newer protocols' record types")
    func codecOlderVersionsAndUnknownTypes() throws {
        var key = ByteBuffer()
        key.writeInteger(Int16(0), endianness: .big)
        try OffsetCommitKey(group: "g", topic: "t", partition: 1).encode(into: &key, version: 0)
        var value = ByteBuffer()
        value.writeInteger(Int16(0), endianness: .big)
        try OffsetCommitValue(offset: 12, metadata: "old", commitTimestamp: 3).encode(into: &value, version: 0)
        let decoded = try GroupRecordCodec.decode(key: key, value: value)
        #expect(decoded == .offsetCommit(OffsetCommitKey(group: "g", topic: "t", partition: 1),
                                         OffsetCommitValue(offset: 12, leaderEpoch: -1, metadata: "old", commitTimestamp: 3)))

        var groupValue = ByteBuffer()
        groupValue.writeInteger(Int16(4), endianness: .big)
        let flexible = GroupMetadataValue(protocolType: "consumer", generation: 1, protocol: "range", leader: "m", currentStateTimestamp: 9, members: [])
        try flexible.encode(into: &groupValue, version: 4)
        var groupKey = ByteBuffer()
        groupKey.writeInteger(Int16(2), endianness: .big)
        try GroupMetadataKey(group: "g").encode(into: &groupKey, version: 2)
        #expect(try GroupRecordCodec.decode(key: groupKey, value: groupValue) == .groupMetadata(GroupMetadataKey(group: "g"), flexible))

        var consumerGroupKey = ByteBuffer()
        consumerGroupKey.writeInteger(Int16(3), endianness: .big)
        consumerGroupKey.writeBytes([0, 1, 0x67])
        #expect(try GroupRecordCodec.decode(key: consumerGroupKey, value: nil) == nil)

        var badVersion = ByteBuffer()
        badVersion.writeInteger(Int16(9), endianness: .big)
        #expect(throws: KafkaWireError.self) { try GroupRecordCodec.decode(key: groupKey, value: badVersion) }
    }

    @Test("applying the records a coordinator wrote rebuilds the same groups and offsets")
    func applyRebuildsState() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 3)
        _ = driver.commit(memberId: ids[0], generation: 1, [("orders", 0, 100, "a"), ("orders", 1, 200, nil)])
        _ = driver.commit(memberId: ids[1], generation: 1, [("orders", 1, 250, "b")])
        var other = driver.state
        _ = other.commitOffsets(OffsetCommitRequest(groupId: "tool", topics: [
            .init(name: "x", partitions: [.init(partitionIndex: 0, committedOffset: 1)]),
        ]), apiVersion: 9, now: 7_000)
        driver.state = other
        driver.log += other.offsets.offsets(for: "tool").map { .offsetCommit(OffsetCommitKey(group: "tool", topic: $0.topic, partition: $0.partition), $0.offset.recordValue) }
        _ = driver.state.deleteOffsets(OffsetDeleteRequest(groupId: "tool", topics: []))

        // Through bytes, as a load from the log would see them.
        var loaded = GroupCoordinatorState(random: SplitMix64(seed: 9))
        for record in driver.log {
            let (key, value) = try GroupRecordCodec.encode(record)
            loaded.apply(try #require(try GroupRecordCodec.decode(key: key, value: value)))
        }
        #expect(loaded.offsets == driver.state.offsets)
        #expect(loaded.offsets["g", "orders", 1]?.offset == 250)
        #expect(Set(loaded.groups.keys) == ["g", "tool"])

        let live = try #require(driver.group)
        let restored = try #require(loaded.group("g"))
        guard case .groupMetadata(_, let lastWritten?) = driver.log.last(where: { $0.groupId == "g" && !$0.isTombstone && { if case .groupMetadata = $0 { true } else { false } }($0) })
        else { Issue.record("no group record"); return }
        #expect(restored.metadataValue() == lastWritten)
        #expect(restored.state == .stable && restored.generationId == live.generationId)
        #expect(restored.leaderId == live.leaderId && restored.protocolName == "range" && restored.protocolType == "consumer")
        #expect(restored.members.map(\.memberId) == live.members.map(\.memberId))
        #expect(restored.members.map(\.assignment) == live.members.map(\.assignment))
        #expect(restored.subscribedTopics == ["orders"])
        #expect(loaded.group("tool")?.protocolType == nil && loaded.group("tool")?.state == .empty)
    }

    @Test("loaded members must heartbeat within their session timeout from the end of the load")
    func loadedMembersExpire() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        var loaded = GroupCoordinatorState(random: SplitMix64(seed: 9))
        for record in driver.log { loaded.apply(record) }
        #expect(loaded.nextDeadlineMs == nil, "no deadlines until the load completes")
        #expect(loaded.finishLoading(now: 100_000).isEmpty)
        #expect(loaded.nextDeadlineMs == 110_000)

        var restarted = GroupTestDriver()
        restarted.state = loaded
        restarted.now = 105_000
        #expect(restarted.heartbeat(memberId: ids[0], generation: 1) == .none)
        restarted.advance(to: 110_000)
        #expect(restarted.group?.hasMember(ids[1]) == false)
        #expect(restarted.group?.state == .preparingRebalance)
        let rejoin = restarted.join(memberId: ids[0])
        #expect(restarted.joinAnswers[rejoin]?.generationId == 2)
    }

    @Test("DescribeGroups and ListGroups show Kafka's state names, metadata and assignments")
    func describeAndList() throws {
        var driver = GroupTestDriver()
        let ids = driver.stableGroup(count: 2)
        let described = driver.state.describeGroups(["g", "missing"])
        #expect(described[0].groupState == "Stable" && described[0].protocolType == "consumer" && described[0].protocolData == "range")
        #expect(described[0].members.map(\.memberId) == ids)
        #expect(described[0].members[0].memberMetadata == consumerSubscription(["orders"]))
        #expect(described[0].members[1].memberAssignment == ByteBuffer(string: "assignment-1"))
        #expect(described[0].members[0].clientId == "client-0" && described[0].members[0].clientHost == "/127.0.0.1")
        #expect(described[1].groupState == "Dead" && described[1].errorCode == 0 && described[1].members.isEmpty)

        driver.join(memberId: ids[0])
        let rebalancing = driver.state.describeGroups(["g"])[0]
        #expect(rebalancing.groupState == "PreparingRebalance" && rebalancing.protocolData == "")
        #expect(rebalancing.members[0].memberMetadata.readableBytes == 0, "no metadata while protocols may change")

        _ = driver.state.commitOffsets(OffsetCommitRequest(groupId: "simple", topics: []), apiVersion: 9, now: 0)
        #expect(driver.state.listGroups().map(\.groupId) == ["g", "simple"])
        #expect(driver.state.listGroups(statesFilter: ["empty"]).map(\.groupId) == ["simple"])
        #expect(driver.state.listGroups(statesFilter: [" PreparingRebalance"]).map(\.groupState) == ["PreparingRebalance"])
        #expect(driver.state.listGroups(typesFilter: ["Classic"]).count == 2)
        #expect(driver.state.listGroups(typesFilter: ["consumer"]).isEmpty)
        #expect(driver.state.listGroups()[0].groupType == "classic" && driver.state.listGroups()[1].protocolType == "")
    }

    @Test("partition(for:) is abs(Java hashCode) % 50, with Kafka's abs(Int.min) = 0")
    func partitionFunction() {
        // "test": 't'=116 'e'=101 's'=115 't'=116
        //   116*31^3 + 101*31^2 + 115*31 + 116 = 3455756 + 97061 + 3565 + 116 = 3556498; 3556498 % 50 = 48
        #expect(GroupPartitioner.javaHashCode("test") == 3_556_498)
        #expect(GroupPartitioner.partition(for: "test") == 48)
        // "my-group": h = 0; for c in "my-group": h = 31*h + c (mod 2^32, signed):
        //   m 109 -> 109; y 121 -> 3500; - 45 -> 108545; g 103 -> 3364998; r 114 -> 104315052;
        //   o 111 -> 3233766723, i.e. -1061200573 as int32; u 117 -> 1462520722 (wrapped);
        //   p 112 -> 2388469534, i.e. -1906497762. abs = 1906497762; % 50 = 12
        #expect(GroupPartitioner.javaHashCode("my-group") == -1_906_497_762)
        #expect(GroupPartitioner.partition(for: "my-group") == 12)
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Math.abs would stay negative (and give
        // partition -48); Kafka's Utils.abs maps it to 0.
        #expect(GroupPartitioner.javaHashCode("polygenelubricants") == Int32.min)
        #expect(GroupPartitioner.partition(for: "polygenelubricants") == 0)
        #expect(GroupPartitioner.partition(for: "") == 0)
        // UTF-16 code units: U+1F600 is the surrogate pair D83D DE00: 0xD83D*31 + 0xDE00 = 1772899; % 50 = 49
        #expect(GroupPartitioner.javaHashCode("😀") == 1_772_899)
        #expect(GroupPartitioner.partition(for: "😀") == 49)
        #expect(GroupPartitioner.partition(for: "my-group", partitionCount: 7) == 1_906_497_762 % 7)
    }
}
