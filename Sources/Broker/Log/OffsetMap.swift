#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The log cleaner's map from record key to the offset of its latest record (Kafka's `OffsetMap`).
///
/// Kafka's `SkimpyOffsetMap` keeps only an MD5 of each key, so two keys with the same hash would make
/// the cleaner drop the latest value of one of them. This map keeps the keys themselves (copied into one
/// growing arena), so a lookup is exact: the latest value of a key is never lost. The table is open
/// addressing with linear probing over a power-of-two number of slots, at most 5/8 full; the hash is a
/// seeded 64-bit multiply-mix over 8-byte words, stored per slot so probes rarely compare key bytes.
///
/// `memoryBytes` (table plus arena) is what the cleaner compares with its budget
/// (`log.cleaner.dedupe.buffer.size`). Not thread-safe; one per cleaning pass.
final class OffsetMap {
    private struct Slot {
        var hash: UInt64
        /// -1 for an empty slot.
        var offset: Int64
        var keyStart: Int
        var keyLength: Int
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    private var arena: UnsafeMutableRawPointer
    private var arenaCapacity: Int
    private var arenaUsed = 0
    private let seed: UInt64
    /// Distinct keys.
    private(set) var count = 0
    /// The largest offset put (-1 if none).
    private(set) var latestOffset: Int64 = -1

    init(initialCapacity: Int = 1024) {
        var capacity = 16
        while capacity < initialCapacity { capacity <<= 1 }
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(hash: 0, offset: -1, keyStart: 0, keyLength: 0), count: capacity)
        arenaCapacity = max(capacity * 16, 4096)
        arena = .allocate(byteCount: arenaCapacity, alignment: 8)
        var random = SystemRandomNumberGenerator()
        seed = random.next()
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    /// Bytes of memory the map holds.
    var memoryBytes: Int { capacity * MemoryLayout<Slot>.stride + arenaCapacity }

    /// Records `offset` as the latest offset of `key` (offsets are put in increasing order, so the last
    /// put wins).
    func put(_ key: UnsafeRawBufferPointer, offset: Int64) {
        precondition(offset >= 0)
        latestOffset = max(latestOffset, offset)
        let hash = Self.hash(key, seed: seed)
        var index = Int(truncatingIfNeeded: hash) & (capacity - 1)
        while true {
            let slot = slots[index]
            if slot.offset < 0 { break }
            if slot.hash == hash && equals(slot, key) {
                slots[index].offset = offset
                return
            }
            index = (index + 1) & (capacity - 1)
        }
        let start = store(key)
        slots[index] = Slot(hash: hash, offset: offset, keyStart: start, keyLength: key.count)
        count += 1
        if count * 8 > capacity * 5 { grow() }
    }

    /// The latest offset put for `key`, or nil.
    func get(_ key: UnsafeRawBufferPointer) -> Int64? {
        let hash = Self.hash(key, seed: seed)
        var index = Int(truncatingIfNeeded: hash) & (capacity - 1)
        while true {
            let slot = slots[index]
            if slot.offset < 0 { return nil }
            if slot.hash == hash && equals(slot, key) { return slot.offset }
            index = (index + 1) & (capacity - 1)
        }
    }

    @inline(__always)
    private func equals(_ slot: Slot, _ key: UnsafeRawBufferPointer) -> Bool {
        guard slot.keyLength == key.count else { return false }
        guard let base = key.baseAddress, slot.keyLength > 0 else { return true }
        return memcmp(arena + slot.keyStart, base, slot.keyLength) == 0
    }

    private func store(_ key: UnsafeRawBufferPointer) -> Int {
        if arenaUsed + key.count > arenaCapacity {
            var newCapacity = arenaCapacity * 2
            while arenaUsed + key.count > newCapacity { newCapacity *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
            grown.copyMemory(from: arena, byteCount: arenaUsed)
            arena.deallocate()
            arena = grown
            arenaCapacity = newCapacity
        }
        let start = arenaUsed
        if let base = key.baseAddress, key.count > 0 { (arena + start).copyMemory(from: base, byteCount: key.count) }
        arenaUsed += key.count
        return start
    }

    private func grow() {
        let oldSlots = slots
        let oldCapacity = capacity
        capacity *= 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(hash: 0, offset: -1, keyStart: 0, keyLength: 0), count: capacity)
        for old in 0..<oldCapacity where oldSlots[old].offset >= 0 {
            var index = Int(truncatingIfNeeded: oldSlots[old].hash) & (capacity - 1)
            while slots[index].offset >= 0 { index = (index + 1) & (capacity - 1) }
            slots[index] = oldSlots[old]
        }
        oldSlots.deallocate()
    }

    /// A seeded 64-bit hash: 8-byte words folded with multiply-xorshift rounds, then a final avalanche
    /// (murmur3's fmix64).
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ (UInt64(key.count) &* 0x9E37_79B9_7F4A_7C15)
        guard let base = key.baseAddress else { return fmix(h) }
        var index = 0
        let count = key.count
        while index + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            h = (h ^ (word &* 0xC2B2_AE3D_27D4_EB4F)).rotatedLeft(31) &* 0x9E37_79B9_7F4A_7C15
            index += 8
        }
        if index < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                word |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
                shift += 8
                index += 1
            }
            h = (h ^ (word &* 0xC2B2_AE3D_27D4_EB4F)).rotatedLeft(31) &* 0x9E37_79B9_7F4A_7C15
        }
        return fmix(h)
    }

    @inline(__always)
    static func fmix(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
