@testable import AWSClient
import Foundation
import XCTest

/// The client against moto's S3 with signatures and IAM policies enforced,
/// through a least-privilege user (GetObject on cosmicai-data/100MB/*,
/// PutObject on cosmicai-results/Anomaly Detection/*, ListBucket).
final class MotoS3Tests: XCTestCase {
    static let awkwardKeys = [
        "Anomaly Detection/x.json", "odd/a+b=c&d*e:f,g.json", "odd/ünïcødé ✓ 天.json",
        "odd/deep/er/still/x.json", "odd/~tilde-._.json", "odd/100%.json", "odd/semi;colon@at$dollar!'(x).json",
    ]
    static let manyObjects = 1100
    static let bigMiB = 100
    nonisolated(unsafe) static var harness: HarnessProcess?
    nonisolated(unsafe) static var startError: Error?

    override class func setUp() {
        super.setUp()
        do {
            harness = try HarnessProcess(
                script: "moto_s3.py",
                arguments: awkwardKeys.flatMap { ["--seed", $0] } + ["--seed-many", "\(manyObjects)", "--seed-big-mb", "\(bigMiB)"]
            )
        } catch {
            startError = error
        }
    }

    override class func tearDown() {
        harness?.stop()
        harness = nil
        super.tearDown()
    }

    private func moto() throws -> HarnessProcess {
        if let error = Self.startError { throw error }
        return try XCTUnwrap(Self.harness)
    }

    func testGetsObjectsWithAwkwardKeys() async throws {
        let harness = try moto()
        for transfer in [S3Configuration.TransferOptions.singleStream, .ranged] {
            var configuration = try MotoTestSupport.configuration(harness)
            configuration.transfer = transfer
            try await MotoTestSupport.withClient(configuration) { client in
                for key in Self.awkwardKeys {
                    let body = try await client.getObject(bucket: "cosmicai-data", key: "100MB/" + key)
                    XCTAssertEqual(String(decoding: body.data, as: UTF8.self), "seeded:\(key)", key)
                }
            }
        }
    }

    func testPutListAndReadBackWithSpacesAndSlashes() async throws {
        let harness = try moto()
        let prefix = "Anomaly Detection/result-partition-100MB/1GB/1/"
        let written = [
            prefix + "0.json": Data(#"{"rank":0}"#.utf8),
            prefix + "combined data+ü.json": Data(repeating: 7, count: 70_000),
        ]
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness)) { client in
            for (key, body) in written {
                try await client.putObject(bucket: "cosmicai-results", key: key, body: body, contentType: "application/json")
            }
            let listed = try await client.listObjects(bucket: "cosmicai-results", prefix: prefix)
            XCTAssertEqual(Set(listed.map(\.key)), Set(written.keys))
            for object in listed {
                XCTAssertEqual(object.size, written[object.key]?.count)
                XCTAssertEqual(object.etag, MotoTestSupport.md5Hex(written[object.key]!))
            }
        }
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness, admin: true)) { admin in
            for (key, body) in written {
                let read = try await admin.getObject(bucket: "cosmicai-results", key: key)
                XCTAssertEqual(read.data, body, key)
                let head = try await admin.headObject(bucket: "cosmicai-results", key: key)
                XCTAssertEqual(head.contentLength, body.count)
                XCTAssertEqual(head.etag, MotoTestSupport.md5Hex(body))
            }
        }
    }

    func testListingFollowsContinuationTokens() async throws {
        let harness = try moto()
        var configuration = try MotoTestSupport.configuration(harness)
        configuration.listPageSize = 300
        try await MotoTestSupport.withClient(configuration) { client in
            let first = try await client.listObjectsPage(bucket: "cosmicai-data", prefix: "100MB/many/")
            XCTAssertEqual(first.objects.count, 300)
            XCTAssertTrue(first.isTruncated)
            XCTAssertNotNil(first.nextContinuationToken)
            let all = try await client.listObjects(bucket: "cosmicai-data", prefix: "100MB/many/")
            XCTAssertEqual(all.map(\.key), (0..<Self.manyObjects).map { String(format: "100MB/many/obj-%05d.json", $0) })
            XCTAssertTrue(all.allSatisfy { $0.size == 2 })
        }
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness)) { client in
            let all = try await client.listObjects(bucket: "cosmicai-data", prefix: "100MB/many/")
            XCTAssertEqual(all.count, Self.manyObjects, "S3's default page of 1000 plus one continuation")
            let odd = try await client.listObjects(bucket: "cosmicai-data", prefix: "100MB/odd/")
            XCTAssertEqual(Set(odd.map(\.key)), Set(Self.awkwardKeys.filter { $0.hasPrefix("odd/") }.map { "100MB/" + $0 }))
        }
    }

    func testAccessDeniedOutsideThePolicy() async throws {
        let harness = try moto()
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness)) { client in
            await MotoTestSupport.assertS3Error("AccessDenied", bucket: "cosmicai-results", key: "Anomaly Detection/x.json") {
                try await client.getObject(bucket: "cosmicai-results", key: "Anomaly Detection/x.json")
            }
            await MotoTestSupport.assertS3Error("AccessDenied", bucket: "cosmicai-data", key: "other/x.json") {
                try await client.getObject(bucket: "cosmicai-data", key: "other/x.json")
            }
            await MotoTestSupport.assertS3Error("AccessDenied", bucket: "cosmicai-data", key: "100MB/new.json") {
                try await client.putObject(bucket: "cosmicai-data", key: "100MB/new.json", body: Data("x".utf8))
            }
            await MotoTestSupport.assertS3Error("AccessDenied", bucket: "cosmicai-results", key: "elsewhere/r.json") {
                try await client.putObject(bucket: "cosmicai-results", key: "elsewhere/r.json", body: Data("x".utf8))
            }
        }
    }

    func testWrongSecretAndUnknownKey() async throws {
        let harness = try moto()
        let key = "100MB/Anomaly Detection/x.json"
        let wrongSecret = try MotoTestSupport.configuration(harness, secret: "wrong" + harness.string("secret_access_key"))
        try await MotoTestSupport.withClient(wrongSecret) { client in
            await MotoTestSupport.assertS3Error("SignatureDoesNotMatch", bucket: "cosmicai-data", key: key) {
                try await client.getObject(bucket: "cosmicai-data", key: key)
            }
        }
        let unknown = try MotoTestSupport.configuration(harness, accessKey: "AKIAUNKNOWNUNKNOWN00")
        try await MotoTestSupport.withClient(unknown) { client in
            await MotoTestSupport.assertS3Error("InvalidAccessKeyId", bucket: "cosmicai-data", key: key) {
                try await client.getObject(bucket: "cosmicai-data", key: key)
            }
        }
    }

    func testNoSuchKeyAndNoSuchBucket() async throws {
        let harness = try moto()
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness)) { client in
            await MotoTestSupport.assertS3Error("NoSuchKey", bucket: "cosmicai-data", key: "100MB/missing 1.safetensors") {
                try await client.getObject(bucket: "cosmicai-data", key: "100MB/missing 1.safetensors")
            }
        }
        try await MotoTestSupport.withClient(try MotoTestSupport.configuration(harness, admin: true)) { admin in
            await MotoTestSupport.assertS3Error("NoSuchBucket", bucket: "no-such-bucket", key: "k.json") {
                try await admin.getObject(bucket: "no-such-bucket", key: "k.json")
            }
            await MotoTestSupport.assertS3Error("NoSuchBucket", bucket: "no-such-bucket", key: "") {
                try await admin.listObjects(bucket: "no-such-bucket", prefix: "")
            }
        }
    }

    /// Prints GET throughput for a 100 MiB object; asserts only correctness.
    func testHundredMegabyteGet() async throws {
        let harness = try moto()
        let big = try XCTUnwrap(harness.info["big"] as? [String: Any])
        let key = try XCTUnwrap(big["key"] as? String)
        let size = try XCTUnwrap(big["size"] as? Int)
        let variants: [(String, S3Configuration.TransferOptions)] = [
            ("single stream", .singleStream),
            ("ranged 8 MiB x 4", .ranged),
            ("ranged 16 MiB x 2", .init(partSize: 16 << 20, maxConcurrentParts: 2)),
        ]
        for (name, transfer) in variants {
            var configuration = try MotoTestSupport.configuration(harness)
            configuration.transfer = transfer
            try await MotoTestSupport.withClient(configuration) { client in
                let start = ContinuousClock.now
                let body = try await client.getObject(bucket: "cosmicai-data", key: key)
                let seconds = (ContinuousClock.now - start) / .seconds(1)
                XCTAssertEqual(body.data.count, size)
                XCTAssertEqual(MotoTestSupport.md5Hex(body.data), big["md5"] as? String, name)
                print(String(format: "S3 GET %d MiB from moto (%@): %.2f s, %.1f MB/s", Self.bigMiB, name, seconds, Double(size) / 1e6 / seconds))
            }
        }
    }
}
