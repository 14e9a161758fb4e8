@testable import AWSClient
import Foundation
import XCTest

/// Retries and error reporting through fault_proxy.py between the client
/// and moto: injected 503/500/throttling answers, resets and short bodies.
final class FaultInjectionTests: XCTestCase {
    static let key = "100MB/Anomaly Detection/x.json"
    nonisolated(unsafe) static var moto: HarnessProcess?
    nonisolated(unsafe) static var proxy: HarnessProcess?
    nonisolated(unsafe) static var startError: Error?

    override class func setUp() {
        super.setUp()
        do {
            let moto = try HarnessProcess(script: "moto_s3.py", arguments: ["--seed", "Anomaly Detection/x.json", "--seed-big-mb", "2"])
            self.moto = moto
            proxy = try HarnessProcess(script: "fault_proxy.py", arguments: ["--upstream", moto.string("endpoint")])
        } catch {
            startError = error
        }
    }

    override class func tearDown() {
        proxy?.stop()
        moto?.stop()
        super.tearDown()
    }

    private var harnesses: (moto: HarnessProcess, proxy: HarnessProcess) {
        get throws {
            if let error = Self.startError { throw error }
            return (try XCTUnwrap(Self.moto), try XCTUnwrap(Self.proxy))
        }
    }

    override func setUp() async throws {
        _ = try harnesses.proxy.command("clear")
    }

    /// A client pointed at the proxy; single-stream GETs so requests are countable.
    private func configuration(retry: RetryPolicy = MotoTestSupport.fastRetry) throws -> S3Configuration {
        let (moto, proxy) = try harnesses
        var configuration = try MotoTestSupport.configuration(moto, endpoint: proxy.string("endpoint"))
        configuration.transfer = .singleStream
        configuration.retry = retry
        return configuration
    }

    /// Requests the proxy saw while `body` ran.
    private func requests(during body: () async throws -> Void) async throws -> Int {
        let proxy = try harnesses.proxy
        let before = try proxy.command("stats")["requests"] as? Int ?? 0
        try await body()
        return (try proxy.command("stats")["requests"] as? Int ?? 0) - before
    }

    private func expectSeededObject(_ client: S3Client) async throws {
        let body = try await client.getObject(bucket: "cosmicai-data", key: Self.key)
        XCTAssertEqual(String(decoding: body.data, as: UTF8.self), "seeded:Anomaly Detection/x.json")
    }

    func testSlowDownThenSuccess() async throws {
        try await MotoTestSupport.withClient(try configuration()) { client in
            _ = try self.harnesses.proxy.command("fault slowdown 2")
            let count = try await self.requests { try await self.expectSeededObject(client) }
            XCTAssertEqual(count, 3)
        }
    }

    func testInternalErrorAndThrottlingThenSuccessfulPut() async throws {
        try await MotoTestSupport.withClient(try configuration()) { client in
            _ = try self.harnesses.proxy.command("fault error500 1")
            _ = try self.harnesses.proxy.command("fault throttle 1")
            let count = try await self.requests {
                try await client.putObject(bucket: "cosmicai-results", key: "Anomaly Detection/retried.json", body: Data("{}".utf8))
            }
            XCTAssertEqual(count, 3)
        }
    }

    func testConnectionResetThenSuccess() async throws {
        try await MotoTestSupport.withClient(try configuration()) { client in
            _ = try self.harnesses.proxy.command("fault reset 1")
            let count = try await self.requests { try await self.expectSeededObject(client) }
            XCTAssertEqual(count, 2)
        }
    }

    func testShortBodyIsRetried() async throws {
        try await MotoTestSupport.withClient(try configuration()) { client in
            _ = try self.harnesses.proxy.command("fault short 1")
            _ = try self.harnesses.proxy.command("fault resetbody 1")
            let count = try await self.requests { try await self.expectSeededObject(client) }
            XCTAssertEqual(count, 3)
        }
    }

    func testShortBodyIsReportedWhenRetriesRunOut() async throws {
        let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        try await MotoTestSupport.withClient(try configuration(retry: retry)) { client in
            _ = try self.harnesses.proxy.command("fault short 2")
            do {
                _ = try await client.getObject(bucket: "cosmicai-data", key: Self.key)
                XCTFail("a short body must not pass")
            } catch let S3Error.incompleteBody(bucket, key, expected, received) {
                XCTAssertEqual(bucket, "cosmicai-data")
                XCTAssertEqual(key, Self.key)
                XCTAssertEqual(expected, "seeded:Anomaly Detection/x.json".utf8.count)
                XCTAssertLessThan(received, expected)
            }
        }
    }

    func testRangedGetSurvivesFaultsInItsParts() async throws {
        let big = try XCTUnwrap(try harnesses.moto.info["big"] as? [String: Any])
        var configuration = try configuration()
        configuration.transfer = .init(partSize: 256 * 1024, maxConcurrentParts: 3)
        try await MotoTestSupport.withClient(configuration) { client in
            _ = try self.harnesses.proxy.command("fault short 1")
            _ = try self.harnesses.proxy.command("fault slowdown 1")
            _ = try self.harnesses.proxy.command("fault reset 1")
            let body = try await client.getObject(bucket: "cosmicai-data", key: big["key"] as! String)
            XCTAssertEqual(MotoTestSupport.md5Hex(body.data), big["md5"] as? String)
        }
    }

    func testGivesUpAfterMaxAttempts() async throws {
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        try await MotoTestSupport.withClient(try configuration(retry: retry)) { client in
            _ = try self.harnesses.proxy.command("fault slowdown 5")
            let count = try await self.requests {
                await MotoTestSupport.assertS3Error("SlowDown", bucket: "cosmicai-data", key: Self.key) {
                    try await client.getObject(bucket: "cosmicai-data", key: Self.key)
                }
            }
            XCTAssertEqual(count, 3)
        }
    }

    func testExpiredTokenAndAccessDeniedAreNotRetried() async throws {
        try await MotoTestSupport.withClient(try configuration()) { client in
            _ = try self.harnesses.proxy.command("fault expired 1")
            var count = try await self.requests {
                await MotoTestSupport.assertS3Error("ExpiredToken", bucket: "cosmicai-data", key: Self.key) {
                    try await client.getObject(bucket: "cosmicai-data", key: Self.key)
                }
            }
            XCTAssertEqual(count, 1)
            count = try await self.requests {
                await MotoTestSupport.assertS3Error("AccessDenied", bucket: "cosmicai-data", key: "secret/x") {
                    try await client.getObject(bucket: "cosmicai-data", key: "secret/x")
                }
            }
            XCTAssertEqual(count, 1)
        }
    }
}
