@testable import AWSClient
import Crypto
import Foundation
import XCTest

/// Builds clients against a running harness and makes sure they are shut down.
enum MotoTestSupport {
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(40))

    static func configuration(
        _ harness: HarnessProcess, endpoint: String? = nil, admin: Bool = false,
        secret: String? = nil, accessKey: String? = nil
    ) throws -> S3Configuration {
        let environment = [
            "AWS_ACCESS_KEY_ID": accessKey ?? harness.string(admin ? "admin_access_key_id" : "access_key_id"),
            "AWS_SECRET_ACCESS_KEY": secret ?? harness.string(admin ? "admin_secret_access_key" : "secret_access_key"),
            "AWS_REGION": harness.string("region"),
            "AWS_ENDPOINT_URL_S3": endpoint ?? harness.string("endpoint"),
        ]
        var configuration = try S3Configuration.fromEnvironment(environment)
        configuration.retry = fastRetry
        return configuration
    }

    /// Runs `body` with a client and shuts it down whatever happens.
    static func withClient<T>(_ configuration: S3Configuration, _ body: (S3Client) async throws -> T) async throws -> T {
        let client = S3Client(configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func md5Hex(_ data: Data) -> String {
        Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Asserts `operation` fails with S3 error `code` whose description names bucket and key.
    static func assertS3Error<T>(
        _ code: String, bucket: String, key: String, file: StaticString = #filePath, line: UInt = #line,
        _ operation: () async throws -> T
    ) async {
        do {
            _ = try await operation()
            XCTFail("expected \(code) for \(bucket)/\(key)", file: file, line: line)
        } catch let error as S3Error {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            let text = String(describing: error)
            XCTAssertTrue(text.contains(bucket) && (key.isEmpty || text.contains(key)), "error must name bucket and key: \(text)", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}
