import MartletProtocol

/// OffsetCommit, OffsetFetch and OffsetDelete (Kafka's `OffsetMetadataManager`). Topics are by name: for
/// the topic-id versions (OffsetCommit v10, OffsetFetch v10) the handler resolves ids to names first and
/// answers UNKNOWN_TOPIC_ID itself. Transactional offsets (TxnOffsetCommit) are not handled yet.
extension GroupCoordinatorState {
    /// OffsetCommit. Members of a live group must name the current generation; commits without a
    /// generation (-1: a consumer not using the group, or an admin tool) only go into an Empty group, and
    /// create a "simple" group if there is none. Each accepted partition becomes an OffsetCommit record.
    public mutating func commitOffsets(_ request: OffsetCommitRequest, apiVersion: Int16, now: Int64) -> GroupOutcome<OffsetCommitResponse> {
        func everyPartition(_ error: KafkaErrorCode) -> GroupOutcome<OffsetCommitResponse> {
            GroupOutcome(OffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, topicId: topic.topicId, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: error.rawValue)
                })
            }))
        }
        let groupId = request.groupId
        let generation = request.generationIdOrMemberEpoch
        if groupId.isEmpty { return everyPartition(.invalidGroupId) }
        if groups[groupId] == nil {
            guard generation < 0 else {
                // v9+ says so; older clients expect ILLEGAL_GENERATION and rejoin.
                return everyPartition(apiVersion >= 9 ? .groupIdNotFound : .illegalGeneration)
            }
            groups[groupId] = ClassicGroup(groupId: groupId, now: now)
        }
        if let error = validateOffsetCommit(groups[groupId]!, request) { return everyPartition(error) }
        let state = groups[groupId]!.state
        if state == .stable || state == .preparingRebalance {
            // Committing keeps a classic member's session alive.
            groups[groupId]!.extendSession(of: request.memberId, now: now)
        }

        let expireTimestampMs = request.retentionTimeMs == -1 ? nil : now + request.retentionTimeMs
        var effects = GroupEffects()
        var response = OffsetCommitResponse()
        for topic in request.topics {
            var answered = OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, topicId: topic.topicId)
            for partition in topic.partitions {
                var error = KafkaErrorCode.none
                if let metadata = partition.committedMetadata, metadata.utf16.count > config.offsetMetadataMaxBytes {
                    error = .offsetMetadataTooLarge
                } else {
                    let committed = CommittedOffset(
                        offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                        metadata: partition.committedMetadata ?? "", commitTimestampMs: now,
                        expireTimestampMs: expireTimestampMs)
                    effects.records.append(.offset(groupId, topic.name, partition.partitionIndex, committed))
                }
                answered.partitions.append(.init(partitionIndex: partition.partitionIndex, errorCode: error.rawValue))
            }
            response.topics.append(answered)
        }
        for record in effects.records { apply(record) }
        return GroupOutcome(response, effects)
    }

    /// Kafka's `ClassicGroup.validateOffsetCommit`.
    func validateOffsetCommit(_ group: ClassicGroup, _ request: OffsetCommitRequest) -> KafkaErrorCode? {
        let generation = request.generationIdOrMemberEpoch
        if group.state == .dead { return .coordinatorNotAvailable }
        if generation < 0 && group.state == .empty { return nil }
        if generation >= 0 || !request.memberId.isEmpty || request.groupInstanceId != nil {
            if let error = group.validateMember(request.memberId, groupInstanceId: request.groupInstanceId) { return error }
            if generation != group.generationId { return .illegalGeneration }
        } else if group.state != .empty {
            return .unknownMemberId
        }
        // The member has the new generation from its JoinGroup answer but no assignment yet.
        if group.state == .completingRebalance { return .rebalanceInProgress }
        return nil
    }

    /// One group's committed offsets: the partitions asked for (-1 where nothing is committed), or all
    /// of them when `topics` is nil. An unknown group has no offsets; that is not an error.
    public func fetchOffsets(groupId: String, topics: [(name: String, partitions: [Int32])]?) -> OffsetFetchResponse.OffsetFetchResponseGroup {
        if groupId.isEmpty {
            return .init(groupId: groupId, errorCode: KafkaErrorCode.invalidGroupId.rawValue)
        }
        let known = groups[groupId].map { $0.state != .dead } ?? false
        func entry(_ partition: Int32, _ committed: CommittedOffset?) -> OffsetFetchResponse.OffsetFetchResponsePartitions {
            .init(partitionIndex: partition, committedOffset: committed?.offset ?? -1,
                  committedLeaderEpoch: committed?.leaderEpoch ?? -1, metadata: committed?.metadata ?? "")
        }
        guard let topics else {
            guard known else { return .init(groupId: groupId) }
            var answered: [OffsetFetchResponse.OffsetFetchResponseTopics] = []
            for (topic, partition, committed) in offsets.offsets(for: groupId) {
                if answered.last?.name != topic { answered.append(.init(name: topic)) }
                answered[answered.count - 1].partitions.append(entry(partition, committed))
            }
            return .init(groupId: groupId, topics: answered)
        }
        return .init(groupId: groupId, topics: topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                entry(partition, known ? offsets[groupId, topic.name, partition] : nil)
            })
        })
    }

    /// OffsetFetch in the shape of `apiVersion`: v8+ batch groups; before, one group at the top level, with
    /// a group error at the top (v2+) or on every partition (v1).
    public func fetchOffsets(_ request: OffsetFetchRequest, apiVersion: Int16) -> OffsetFetchResponse {
        if apiVersion >= 8 {
            return OffsetFetchResponse(groups: request.groups.map { group in
                fetchOffsets(groupId: group.groupId, topics: group.topics?.map { ($0.name, $0.partitionIndexes) })
            })
        }
        let group = fetchOffsets(groupId: request.groupId, topics: request.topics?.map { ($0.name, $0.partitionIndexes) })
        let groupError = group.errorCode
        return OffsetFetchResponse(
            topics: group.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { partition in
                    apiVersion < 2 && groupError != 0
                        ? .init(partitionIndex: partition.partitionIndex, committedOffset: -1, committedLeaderEpoch: -1,
                                metadata: "", errorCode: groupError)
                        : .init(partitionIndex: partition.partitionIndex, committedOffset: partition.committedOffset,
                                committedLeaderEpoch: partition.committedLeaderEpoch, metadata: partition.metadata,
                                errorCode: partition.errorCode)
                })
            },
            errorCode: groupError)
    }

    /// OffsetDelete: only for an Empty group, or a consumer group's topics its members no longer
    /// subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Deleted offsets become tombstones.
    public mutating func deleteOffsets(_ request: OffsetDeleteRequest) -> GroupOutcome<OffsetDeleteResponse> {
        let groupId = request.groupId
        guard !groupId.isEmpty else { return GroupOutcome(OffsetDeleteResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue)) }
        guard let group = groups[groupId], group.state != .dead else {
            return GroupOutcome(OffsetDeleteResponse(errorCode: KafkaErrorCode.groupIdNotFound.rawValue))
        }
        if group.state != .empty && !group.usesConsumerProtocol {
            return GroupOutcome(OffsetDeleteResponse(errorCode: KafkaErrorCode.nonEmptyGroup.rawValue))
        }
        var effects = GroupEffects()
        var response = OffsetDeleteResponse()
        for topic in request.topics {
            let subscribed = group.isSubscribed(to: topic.name)
            response.topics.append(.init(name: topic.name, partitions: topic.partitions.map { partition in
                if subscribed {
                    return .init(partitionIndex: partition.partitionIndex, errorCode: KafkaErrorCode.groupSubscribedToTopic.rawValue)
                }
                if offsets[groupId, topic.name, partition.partitionIndex] != nil {
                    effects.records.append(.offset(groupId, topic.name, partition.partitionIndex, nil))
                }
                return .init(partitionIndex: partition.partitionIndex, errorCode: 0)
            }))
        }
        for record in effects.records { apply(record) }
        return GroupOutcome(response, effects)
    }
}
