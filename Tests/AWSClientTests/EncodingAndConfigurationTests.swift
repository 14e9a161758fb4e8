import XCTest
@testable import AWSClient

final class EncodingAndConfigurationTests: XCTestCase {
    func testPathEncodingKeepsSlashesAndEncodesEverythingElseOnce() {
        XCTAssertEqual(AWSPercentEncoding.encodePath("Anomaly Detection/x.json"), "Anomaly%20Detection/x.json")
        XCTAssertEqual(AWSPercentEncoding.encodePath("a+b=c&d*e:f,g"), "a%2Bb%3Dc%26d%2Ae%3Af%2Cg")
        XCTAssertEqual(AWSPercentEncoding.encodePath("ü/天"), "%C3%BC/%E5%A4%A9")
        XCTAssertEqual(AWSPercentEncoding.encodePath("100%"), "100%25")
        XCTAssertEqual(AWSPercentEncoding.encodePath("-._~AZaz09"), "-._~AZaz09")
    }

    func testQueryEncodingEncodesSlashAndSpace() {
        XCTAssertEqual(AWSPercentEncoding.encode("Anomaly Detection/result/"), "Anomaly%20Detection%2Fresult%2F")
        XCTAssertEqual(
            SigV4Signer.canonicalQuery([(name: "prefix", value: "a b/c+"), (name: "list-type", value: "2"), (name: "continuation-token", value: "x=/y")]),
            "continuation-token=x%3D%2Fy&list-type=2&prefix=a%20b%2Fc%2B"
        )
    }

    func testDecodingRoundTripsAndRejectsBadEscapes() {
        for text in ["Anomaly Detection/x.json", "a+b=c&d*e:f,g", "ünïcødé ✓ 天", "100%"] {
            XCTAssertEqual(AWSPercentEncoding.decode(AWSPercentEncoding.encode(text)), text)
        }
        XCTAssertNil(AWSPercentEncoding.decode("%zz"))
        XCTAssertNil(AWSPercentEncoding.decode("abc%4"))
        XCTAssertNil(AWSPercentEncoding.decode("%FF%FE"), "not UTF-8")
    }

    func testEndpointResolutionFollowsAWSPrecedence() throws {
        let both = ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL": "http://127.0.0.1:6000", "AWS_REGION": "eu-west-1"]
        let s3 = try AWSEndpoint.resolve(service: "s3", environment: both)
        XCTAssertEqual(s3.origin, "http://127.0.0.1:5000")
        XCTAssertEqual(s3.region, "eu-west-1")
        XCTAssertTrue(s3.usesPathStyle(bucket: "cosmicai-data"))
        XCTAssertEqual(try AWSEndpoint.resolve(service: "lambda", environment: both).port, 6000)

        let ignored = try AWSEndpoint.resolve(service: "s3", environment: both.merging(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { $1 })
        XCTAssertEqual(ignored.origin, "https://s3.eu-west-1.amazonaws.com")
        XCTAssertFalse(ignored.usesPathStyle(bucket: "cosmicai-data"))
        XCTAssertTrue(ignored.usesPathStyle(bucket: "has.dots"), "dotted names break TLS for virtual hosts")

        let fallback = try AWSEndpoint.resolve(service: "s3", environment: ["AWS_DEFAULT_REGION": "us-west-2"])
        XCTAssertEqual(fallback.region, "us-west-2")
        XCTAssertEqual(try AWSEndpoint.resolve(service: "s3", environment: [:]).region, "us-east-1")
        XCTAssertEqual(try AWSEndpoint.resolve(service: "s3", environment: ["AWS_REGION": "cn-north-1"]).host, "s3.cn-north-1.amazonaws.com.cn")

        XCTAssertThrowsError(try AWSEndpoint.resolve(service: "s3", environment: ["AWS_ENDPOINT_URL_S3": "ftp://x"])) { error in
            XCTAssertEqual(error as? AWSConfigurationError, .invalidEndpoint(variable: "AWS_ENDPOINT_URL_S3", value: "ftp://x"))
        }
    }

    func testCredentialsFromEnvironment() throws {
        let base = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"]
        XCTAssertEqual(try AWSCredentials.fromEnvironment(base), AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"))
        XCTAssertEqual(try AWSCredentials.fromEnvironment(base.merging(["AWS_SESSION_TOKEN": ""]) { $1 }).sessionToken, nil)
        XCTAssertEqual(try AWSCredentials.fromEnvironment(base.merging(["AWS_SESSION_TOKEN": "tok"]) { $1 }).sessionToken, "tok")
        XCTAssertThrowsError(try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"])) { error in
            XCTAssertEqual(error as? AWSConfigurationError, .missingVariable("AWS_SECRET_ACCESS_KEY"))
            XCTAssertTrue(String(describing: error).contains("AWS_SECRET_ACCESS_KEY"))
        }
    }

    func testRetryPolicyBackoffIsCappedFullJitter() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        XCTAssertEqual((1...6).map { policy.delayCeiling(retry: $0) },
                       [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        var generator = SystemRandomNumberGenerator()
        let samples = (0..<200).map { _ in policy.delay(retry: 3, using: &generator) }
        XCTAssertTrue(samples.allSatisfy { $0 >= .zero && $0 <= .milliseconds(400) })
        XCTAssertGreaterThan(Set(samples).count, 100, "the wait is randomized")
    }

    func testRetryPolicyRetriesOnlyRetryableErrors() async throws {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2))
        let slowDown = S3Error.service(bucket: "b", key: "k", status: 503, code: "SlowDown", message: "", requestID: nil)
        var attempts = 0
        do {
            _ = try await policy.run(isRetryable: { ($0 as? S3Error)?.isRetryable ?? false }) { _ -> Int in
                attempts += 1
                throw slowDown
            }
            XCTFail("must throw")
        } catch {}
        XCTAssertEqual(attempts, 3)

        attempts = 0
        let denied = S3Error.service(bucket: "b", key: "k", status: 403, code: "AccessDenied", message: "", requestID: nil)
        do {
            _ = try await policy.run(isRetryable: { ($0 as? S3Error)?.isRetryable ?? false }) { _ -> Int in
                attempts += 1
                throw denied
            }
        } catch {}
        XCTAssertEqual(attempts, 1)

        let value = try await policy.run(isRetryable: { _ in true }) { attempt -> Int in
            if attempt < 3 { throw slowDown }
            return attempt
        }
        XCTAssertEqual(value, 3)
    }

    func testErrorClassification() {
        func service(_ status: Int, _ code: String) -> S3Error {
            .service(bucket: "b", key: "k", status: status, code: code, message: "m", requestID: "r")
        }
        for retryable in [service(503, "SlowDown"), service(500, "InternalError"), service(400, "RequestTimeout"),
                          service(502, "HTTP502"), service(504, "HTTP504"), service(400, "Throttling"),
                          S3Error.incompleteBody(bucket: "b", key: "k", expected: 10, received: 5)] {
            XCTAssertTrue(retryable.isRetryable, "\(retryable)")
        }
        for permanent in [service(403, "AccessDenied"), service(404, "NoSuchKey"), service(404, "NoSuchBucket"),
                          service(403, "SignatureDoesNotMatch"), service(403, "InvalidAccessKeyId"),
                          service(400, "ExpiredToken"), service(400, "InvalidArgument")] {
            XCTAssertFalse(permanent.isRetryable, "\(permanent)")
        }
        let text = String(describing: service(400, "ExpiredToken"))
        XCTAssertTrue(text.contains("s3://b/k") && text.contains("ExpiredToken") && text.contains("request id r"), text)
        XCTAssertTrue(String(describing: S3Error.incompleteBody(bucket: "b", key: "k", expected: 10, received: 5)).contains("5 of 10"))
    }

    func testErrorDocumentParsing() {
        let xml = Data("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a b</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """.utf8)
        XCTAssertEqual(S3ErrorDocument.parse(xml, status: 404, headers: []),
                       S3ErrorDocument(code: "NoSuchKey", message: "The specified key does not exist.", requestID: "4442587FB7D0A2F9"))
        let bare = S3ErrorDocument.parse(Data(), status: 403, headers: [("x-amz-request-id", "RID")])
        XCTAssertEqual(bare, S3ErrorDocument(code: "AccessDenied", message: "no error document", requestID: "RID"))
        XCTAssertEqual(S3ErrorDocument.parse(Data("<html>oops".utf8), status: 502, headers: []).code, "HTTP502")
    }
}
