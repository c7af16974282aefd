import MartletProtocol
import NIOCore

/// The group as DescribeGroups and ListGroups show it.
extension ClassicGroup {
    /// Kafka's describe: a Stable group shows its protocol and each member's metadata for it; other states
    /// show members without metadata (their protocols may be changing), assignments always.
    public func described() -> DescribeGroupsResponse.DescribedGroup {
        let stableProtocol = state == .stable ? protocolName : nil
        return DescribeGroupsResponse.DescribedGroup(
            groupId: groupId, groupState: state.name, protocolType: protocolType ?? "",
            protocolData: stableProtocol ?? "",
            members: members.map { member in
                DescribeGroupsResponse.DescribedGroupMember(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost,
                    memberMetadata: stableProtocol.map { member.metadata(for: $0) } ?? ByteBuffer(),
                    memberAssignment: member.assignment)
            })
    }

    /// The group type ListGroups v5+ reports and filters on.
    public static let groupType = "classic"

    public func listed() -> ListGroupsResponse.ListedGroup {
        ListGroupsResponse.ListedGroup(
            groupId: groupId, protocolType: protocolType ?? "", groupState: state.name, groupType: Self.groupType)
    }
}
