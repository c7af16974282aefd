/// How a batch's record timestamps were set (attribute bit 3).
public enum TimestampType: Int8, Hashable, Sendable, CustomStringConvertible {
    /// The producer's timestamps.
    case createTime = 0
    /// The broker's append time, stored as the batch's `maxTimestamp`.
    case logAppendTime = 1

    public var description: String { self == .createTime ? "CreateTime" : "LogAppendTime" }
}

/// The int16 attributes of a v2 batch (offset 21):
/// bits 0–2 compression codec, bit 3 timestamp type, bit 4 isTransactional, bit 5 isControl,
/// bit 6 hasDeleteHorizonMs, bits 7–15 unused (kept as read).
public struct RecordBatchAttributes: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int16

    @usableFromInline static let compressionMask: Int16 = 0x07
    @usableFromInline static let timestampTypeBit: Int16 = 0x08
    @usableFromInline static let transactionalBit: Int16 = 0x10
    @usableFromInline static let controlBit: Int16 = 0x20
    @usableFromInline static let deleteHorizonBit: Int16 = 0x40

    @inlinable
    public init(rawValue: Int16) { self.rawValue = rawValue }

    @inlinable
    public init(
        compression: CompressionCodec = .none, timestampType: TimestampType = .createTime,
        isTransactional: Bool = false, isControl: Bool = false, hasDeleteHorizonMs: Bool = false
    ) {
        rawValue = compression.rawValue
        self.timestampType = timestampType
        self.isTransactional = isTransactional
        self.isControl = isControl
        self.hasDeleteHorizonMs = hasDeleteHorizonMs
    }

    /// The codec id in bits 0–2, known or not.
    @inlinable
    public var compressionID: Int16 {
        get { rawValue & Self.compressionMask }
        set { rawValue = (rawValue & ~Self.compressionMask) | (newValue & Self.compressionMask) }
    }

    /// The codec, or nil for the ids 5–7 no Kafka version defines.
    @inlinable
    public var compression: CompressionCodec? { CompressionCodec(rawValue: compressionID) }

    @inlinable
    public var timestampType: TimestampType {
        get { rawValue & Self.timestampTypeBit != 0 ? .logAppendTime : .createTime }
        set { set(Self.timestampTypeBit, newValue == .logAppendTime) }
    }

    @inlinable
    public var isTransactional: Bool {
        get { rawValue & Self.transactionalBit != 0 }
        set { set(Self.transactionalBit, newValue) }
    }

    @inlinable
    public var isControl: Bool {
        get { rawValue & Self.controlBit != 0 }
        set { set(Self.controlBit, newValue) }
    }

    /// Set by compaction: `baseTimestamp` then holds the delete horizon (KIP-534).
    @inlinable
    public var hasDeleteHorizonMs: Bool {
        get { rawValue & Self.deleteHorizonBit != 0 }
        set { set(Self.deleteHorizonBit, newValue) }
    }

    @inlinable
    mutating func set(_ bit: Int16, _ on: Bool) {
        rawValue = on ? rawValue | bit : rawValue & ~bit
    }
}
