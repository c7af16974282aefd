import MartletProtocol
import NIOCore

/// The group as stored in `__consumer_offsets` (a `GroupMetadataValue` under a `GroupMetadataKey`) and
/// back. What is persisted is the last completed generation: members, their metadata for the chosen
/// protocol and their assignments; rebalance progress, parked calls and deadlines are not.
extension ClassicGroup {
    /// The value version written: 3, the highest non-flexible one, as Kafka writes it.
    public static let metadataValueVersion: Int16 = 3

    /// The group's metadata record, with the members' current assignments.
    public func metadataRecord() -> GroupCoordinatorRecord {
        .groupMetadata(GroupMetadataKey(group: groupId), metadataValue())
    }

    /// Kafka's `newGroupMetadataRecord`: each member with its metadata for the chosen protocol (its
    /// "subscription") and its assignment.
    public func metadataValue() -> GroupMetadataValue {
        GroupMetadataValue(
            protocolType: protocolType ?? "",
            generation: generationId,
            protocol: protocolName,
            leader: leaderId,
            currentStateTimestamp: currentStateTimestampMs ?? -1,
            members: members.map { member in
                GroupMetadataValue.MemberMetadata(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, rebalanceTimeout: member.rebalanceTimeoutMs,
                    sessionTimeout: member.sessionTimeoutMs, subscription: member.metadata(for: protocolName),
                    assignment: member.assignment)
            })
    }

    /// Rebuilds a group from its stored metadata (Kafka's `replay` of a GroupMetadataValue): Stable with
    /// its members if it has any, else Empty. Each member supports just the group's protocol, with the
    /// metadata stored for it. Members have no session deadline until the load completes
    /// (`GroupCoordinatorState.finishLoading(now:)`), from when they must heartbeat or rejoin in time.
    public init(groupId: String, loading value: GroupMetadataValue) {
        self.init(
            groupId: groupId, state: value.members.isEmpty ? .empty : .stable, generationId: value.generation,
            protocolType: value.protocolType.isEmpty ? nil : value.protocolType, protocolName: value.protocol,
            leaderId: value.leader, currentStateTimestampMs: value.currentStateTimestamp == -1 ? nil : value.currentStateTimestamp)
        for stored in value.members {
            add(ClassicGroupMember(
                memberId: stored.memberId, groupInstanceId: stored.groupInstanceId, clientId: stored.clientId,
                clientHost: stored.clientHost,
                rebalanceTimeoutMs: stored.rebalanceTimeout == -1 ? stored.sessionTimeout : stored.rebalanceTimeout,
                sessionTimeoutMs: stored.sessionTimeout, protocolType: value.protocolType,
                protocols: [.init(name: value.protocol ?? "", metadata: stored.subscription)],
                assignment: stored.assignment))
        }
        subscribedTopics = computeSubscribedTopics()
    }

    /// Kafka's `computeSubscribedTopics`: for the "consumer" protocol type, the union of the topics in the
    /// members' `ConsumerProtocolSubscription` (read as version 0, the prefix of every version). Nil when
    /// unknown: another protocol type, no protocol chosen yet, or metadata that does not parse.
    func computeSubscribedTopics() -> Set<String>? {
        guard usesConsumerProtocol else { return nil }
        if membersById.isEmpty { return [] }
        guard let protocolName else { return nil }
        var topics: Set<String> = []
        for member in membersById.values {
            var bytes = member.metadata(for: protocolName)
            guard let version = bytes.readInteger(endianness: .big, as: Int16.self), version >= 0,
                  let subscription = try? ConsumerProtocolSubscription(from: &bytes, version: 0)
            else { return nil }
            topics.formUnion(subscription.topics)
        }
        return topics
    }

    /// Kafka's `isSubscribedToTopic`: when the subscriptions are unknown, a consumer group is assumed to
    /// be subscribed (so its offsets are kept) and any other group not.
    public func isSubscribed(to topic: String) -> Bool {
        subscribedTopics.map { $0.contains(topic) } ?? usesConsumerProtocol
    }
}
