import Foundation
import XCTest
@testable import LambdaRuntime

/// The `next` responses fuzz-lambda-event (Fuzz/Sources/fuzz-lambda-event)
/// failed on, committed under Fuzz/Crashes/fuzz-lambda-event: header lines,
/// a blank line, the event. (The events are replayed through real workers
/// by CAIWorkloadTests.LambdaEventFuzzRegressionTests.)
final class NextInvocationFuzzRegressionTests: XCTestCase {
    static let crashes = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Crashes/fuzz-lambda-event", isDirectory: true)

    /// The response as the harness reads an input; nil when it has no headers.
    static func response(_ input: Data) -> RuntimeHTTPTransport.Response? {
        let bytes = [UInt8](input)
        for index in bytes.indices {
            let separator: Int
            if bytes[index...].starts(with: [0x0A, 0x0A]) { separator = 2 }
            else if bytes[index...].starts(with: [0x0D, 0x0A, 0x0D, 0x0A]) { separator = 4 }
            else { continue }
            // Split as bytes: in a Swift String "\r\n" is one Character.
            let headers = bytes[..<index].split(separator: 0x0A).compactMap { line -> (name: String, value: String)? in
                let line = line.last == 0x0D ? line.dropLast() : line
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
                return (String(decoding: line[..<colon], as: UTF8.self),
                        String(decoding: line[(colon + 1)...], as: UTF8.self))
            }
            return RuntimeHTTPTransport.Response(status: 200, headers: headers, body: Data(bytes[(index + separator)...]))
        }
        return nil
    }

    /// A request id of `..` put the answer at `.../runtime/response` once the
    /// URL is resolved (percent-encoding leaves dots alone): now the
    /// invocation is refused as unanswerable, like one without an id.
    func testCommittedRequestIDInputIsRefused() throws {
        let input = try Data(contentsOf: Self.crashes.appendingPathComponent("request-id-dot-dot.txt"))
        let response = try XCTUnwrap(Self.response(input))
        XCTAssertEqual(response.header(NextInvocation.requestIDHeader), "..")
        XCTAssertThrowsError(try NextInvocation(response: response)) { error in
            XCTAssertEqual(error as? LambdaRuntimeError,
                           .invalidRequestID(header: NextInvocation.requestIDHeader, value: ".."))
            XCTAssertTrue("\(error)".contains("cannot name the answer's path"), "\(error)")
        }
    }

    func testDotSegmentRequestIDsAreRefusedOthersKept() throws {
        func response(_ id: String) -> RuntimeHTTPTransport.Response {
            RuntimeHTTPTransport.Response(status: 200, headers: [
                (name: NextInvocation.requestIDHeader, value: id),
                (name: NextInvocation.deadlineHeader, value: "1764633600000"),
                (name: NextInvocation.functionARNHeader, value: "arn:aws:lambda:us-east-1:123456789012:function:f"),
            ], body: Data())
        }
        for id in [".", "..", " .. "] {
            XCTAssertThrowsError(try NextInvocation(response: response(id)), id) { error in
                XCTAssertEqual(error as? LambdaRuntimeError,
                               .invalidRequestID(header: NextInvocation.requestIDHeader,
                                                 value: id.trimmingCharacters(in: .whitespaces)))
            }
        }
        for id in ["...", ".a", "a..", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"] {
            let invocation = try NextInvocation(response: response(id))
            XCTAssertEqual(invocation.requestID, id)
            XCTAssertNil(invocation.problem)
            let url = try XCTUnwrap(URL(string: "http://127.0.0.1:9001/2018-06-01/runtime/invocation/"
                + RuntimeAPIClient.pathSegment(id) + "/response"))
            XCTAssertEqual(url.standardized, url, "request id \(id) moves the answer")
        }
    }

    /// Every committed input with headers: a parsed invocation or a runtime
    /// error, never a trap.
    func testEveryCommittedResponseParsesOrIsRefused() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.crashes, includingPropertiesForKeys: nil)
        XCTAssertFalse(files.isEmpty, "no inputs under \(Self.crashes.path)")
        for file in files {
            guard let response = Self.response(try Data(contentsOf: file)) else { continue }
            do {
                _ = try NextInvocation(response: response)
            } catch {
                XCTAssertTrue(error is LambdaRuntimeError, "\(file.lastPathComponent): \(error)")
            }
        }
    }
}
