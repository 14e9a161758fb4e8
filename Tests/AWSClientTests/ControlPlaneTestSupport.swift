@testable import AWSClient
import Foundation
import XCTest

/// Asserts `body` fails with AWS error `code` whose description holds each of `words`.
func assertServiceError(
    code: String, naming words: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void
) async {
    do {
        try await body()
        XCTFail("expected \(code)", file: file, line: line)
    } catch let error as AWSServiceError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        let text = String(describing: error)
        for word in words { XCTAssertTrue(text.contains(word), "'\(word)' missing from: \(text)", file: file, line: line) }
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}

/// The three clients share `shutdown()`; tests shut each down whatever happens.
protocol ShutdownableAWSClient { func shutdown() async throws }
extension StepFunctionsClient: ShutdownableAWSClient {}
extension LambdaControlClient: ShutdownableAWSClient {}
extension CloudWatchLogsClient: ShutdownableAWSClient {}

func withAWSClient<C: ShutdownableAWSClient>(_ client: C, _ body: (C) async throws -> Void) async throws {
    do {
        try await body(client)
        try await client.shutdown()
    } catch {
        try? await client.shutdown()
        throw error
    }
}
