/// Which `__consumer_offsets` partition coordinates a group: Kafka's
/// `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`. It must match Kafka bit for bit, since
/// clients and tools compute nothing themselves but a mixed or migrated cluster would disagree on where a
/// group's records live.
public enum GroupPartitioner {
    public static func partition(for groupId: String, partitionCount: Int32 = 50) -> Int32 {
        precondition(partitionCount > 0, "offsets.topic.num.partitions must be positive")
        return kafkaAbs(javaHashCode(groupId)) % partitionCount
    }

    /// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, in wrapping
    /// 32-bit arithmetic.
    public static func javaHashCode(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// Kafka's `Utils.abs`: `Math.abs` except that Int.MIN_VALUE (which has no positive counterpart) maps to
    /// 0 rather than staying negative.
    public static func kafkaAbs(_ value: Int32) -> Int32 {
        value == .min ? 0 : abs(value)
    }
}
