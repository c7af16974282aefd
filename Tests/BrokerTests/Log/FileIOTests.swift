import Foundation
import Testing

@testable import MartletBroker

@Suite("FileIO")
struct FileIOTests {
    @Test("a relative log directory is created relative to the working directory, not the root")
    func relativeDirectoriesStayRelative() throws {
        let top = "martlet-fileio-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: top) }
        try FileIO.makeDirectories(top + "/node-1/orders-0")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: top + "/node-1/orders-0", isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(!FileManager.default.fileExists(atPath: "/" + top))
    }
}
