import MartletProtocol
import NIOCore
import Testing

/// Every generated message at every version in its range: a sample with every field set (and one with every
/// nullable field null) encodes to exactly `size` bytes, decodes to the same value, and re-encodes to the
/// same bytes.
@Suite struct GeneratedRoundTripTests {
    static let typeNames = allGeneratedMessageTypes.map { String(describing: $0) }

    @Test(arguments: typeNames)
    func roundTripsAtEveryVersion(typeName: String) throws {
        let type = try #require(allGeneratedMessageTypes.first { String(describing: $0) == typeName })
        try Self.roundTrip(type)
    }

    @Test func coversEverySpec() {
        #expect(allGeneratedMessageTypes.count >= 170)
    }

    static func roundTrip<Message: SampledMessage>(_ type: Message.Type) throws {
        for version in Message.validVersions {
            for variant in 0...1 {
                let original = Message.sample(version: version, variant: variant)
                var bytes = try original.encoded(version: version)
                let written = bytes
                #expect(written.readableBytes == original.size(version: version), "\(Message.self) v\(version) size")
                let decoded = try Message(from: &bytes, version: version)
                #expect(bytes.readableBytes == 0, "\(Message.self) v\(version) left bytes unread")
                #expect(decoded == original, "\(Message.self) v\(version) variant \(variant) decodes differently")
                let again = try decoded.encoded(version: version)
                #expect(again == written, "\(Message.self) v\(version) re-encodes differently")
            }
        }
    }
}
