import Foundation
import Testing

@testable import MartletBroker

@Suite("Offset and time indexes")
struct IndexTests {
    @Test("offset index lookups, truncation, big-endian layout")
    func offsetIndex() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let path = directory.path + "/00000000000000000100.index"
        let index = try OffsetIndex(path: path, baseOffset: 100, create: true)
        try index.file.resize(to: 8 * 10)
        #expect(index.lookup(150) == (100, 0))
        index.append(offset: 110, position: 1000)
        index.append(offset: 120, position: 2000)
        index.append(offset: 115, position: 2500)  // not increasing: ignored
        index.append(offset: 130, position: 3000)
        #expect(index.entries == 3)
        #expect(index.lookup(109) == (100, 0))
        #expect(index.lookup(110) == (110, 1000))
        #expect(index.lookup(125) == (120, 2000))
        #expect(index.lookup(1_000) == (130, 3000))
        #expect(index.lookup(position: 2999) == (120, 2000))
        #expect(index.isConsistent(logSize: 3001, nextSegmentBaseOffset: 131))
        #expect(!index.isConsistent(logSize: 3000, nextSegmentBaseOffset: nil))
        #expect(!index.isConsistent(logSize: 5000, nextSegmentBaseOffset: 130))
        try index.file.trimToValidSize()
        #expect(TemporaryLogDirectory.bytes(path) == [0, 0, 0, 10, 0, 0, 3, 232, 0, 0, 0, 20, 0, 0, 7, 208, 0, 0, 0, 30, 0, 0, 11, 184])
        index.truncate(fromPosition: 2000)
        #expect(index.entries == 1 && index.lastEntry! == (110, 1000))
    }

    @Test("time index keeps increasing timestamps and reserves a slot for the final entry")
    func timeIndex() throws {
        let directory = TemporaryLogDirectory()
        defer { directory.remove() }
        let index = try TimeIndex(path: directory.path + "/00000000000000000000.timeindex", baseOffset: 0, create: true)
        try index.file.resize(to: 12 * 3)
        #expect(index.lookup(5) == (-1, 0))
        index.maybeAppend(timestamp: 1000, offset: 4)
        index.maybeAppend(timestamp: 1000, offset: 6)  // not larger: ignored
        index.maybeAppend(timestamp: 2000, offset: 9)
        #expect(index.isFull)
        index.maybeAppend(timestamp: 3000, offset: 12)  // full
        #expect(index.entries == 2)
        index.maybeAppend(timestamp: 3000, offset: 12, force: true)
        #expect(index.entries == 3)
        #expect(index.lookup(999) == (-1, 0))
        #expect(index.lookup(1500) == (1000, 4))
        #expect(index.lookup(9999) == (3000, 12))
        index.truncate(fromOffset: 9)
        #expect(index.entries == 1)
    }
}

extension TemporaryLogDirectory {
    static func bytes(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }
}
