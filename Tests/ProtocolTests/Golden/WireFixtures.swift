import Foundation
import MartletProtocol
import NIOCore

/// The captured client traffic in Fixtures/wire (see conformance/capture/README.md): one entry per request
/// frame, with the peer's response and the values a reader of the bytes should find.
struct WireFixture: CustomStringConvertible, Sendable {
    let client: String
    let file: String
    let apiName: String
    let apiKey: Int16
    let apiVersion: Int16
    let correlationId: Int32
    let clientId: String?
    let responseFile: String?
    let responseHeaderVersion: Int16?
    /// The manifest's expectations, JSON-encoded (Foundation's JSON values are not Sendable).
    let expectJSON: Data
    let responseExpectJSON: Data

    var description: String { file }

    var expect: [String: Any] { (try? JSONSerialization.jsonObject(with: expectJSON)) as? [String: Any] ?? [:] }
    var responseExpect: [String: Any] { (try? JSONSerialization.jsonObject(with: responseExpectJSON)) as? [String: Any] ?? [:] }

    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/wire")

    static let all: [WireFixture] = {
        let manifest = try! JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as! [String: Any]
        return (manifest["entries"] as! [[String: Any]]).map { entry in
            WireFixture(
                client: entry["client"] as! String,
                file: entry["file"] as! String,
                apiName: entry["apiName"] as! String,
                apiKey: Int16(entry["apiKey"] as! Int),
                apiVersion: Int16(entry["apiVersion"] as! Int),
                correlationId: Int32(entry["correlationId"] as! Int),
                clientId: entry["clientId"] as? String,
                responseFile: entry["responseFile"] as? String,
                responseHeaderVersion: (entry["responseHeaderVersion"] as? Int).map(Int16.init),
                expectJSON: try! JSONSerialization.data(withJSONObject: entry["expect"] ?? [String: Any]()),
                responseExpectJSON: try! JSONSerialization.data(withJSONObject: entry["responseExpect"] ?? [String: Any]())
            )
        }
    }()

    /// A frame file's body: the size prefix checked against the file and removed.
    static func frameBody(_ name: String) throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: try Data(contentsOf: directory.appendingPathComponent(name)))
        guard let body = try KafkaFrame.next(from: &buffer, maximumFrameSize: KafkaFrameDecoder.defaultMaximumFrameSize),
              buffer.readableBytes == 0
        else { throw FixtureError("\(name): not exactly one whole frame") }
        return body
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Compares the scalar values the manifest expects with the decoded message's properties of the same name
/// (the manifest uses the specs' field names in lower camel case, as the generated properties do).
enum ExpectedValues {
    static func mismatches(_ expected: [String: Any], in value: Any) -> [String] {
        let children = Dictionary(Mirror(reflecting: value).children.compactMap { child in child.label.map { ($0, child.value) } },
                                  uniquingKeysWith: { first, _ in first })
        var problems: [String] = []
        for (key, expectedValue) in expected {
            guard let actual = children[key] else { continue }
            guard let difference = compare(expectedValue, unwrap(actual)) else { continue }
            problems.append("\(key): \(difference)")
        }
        return problems
    }

    /// nil when equal; otherwise a description of the difference. Only scalars are compared.
    private static func compare(_ expected: Any, _ actual: Any?) -> String? {
        switch expected {
        case is NSNull:
            return actual == nil ? nil : "expected null, found \(actual!)"
        case let text as String:
            return (actual as? String) == text ? nil : "expected \(text), found \(String(describing: actual))"
        case let number as NSNumber:
            if let flag = actual as? Bool { return flag == number.boolValue ? nil : "expected \(number.boolValue), found \(flag)" }
            guard let actual, let integer = Int64(String(describing: actual)) else { return nil }
            return integer == number.int64Value ? nil : "expected \(number), found \(integer)"
        default:
            return nil
        }
    }

    private static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.map { unwrap($0.value) } ?? nil
    }
}
