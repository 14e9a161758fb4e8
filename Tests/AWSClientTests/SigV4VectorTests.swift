import XCTest
@testable import AWSClient

/// Known-answer tests: AWS's SigV4 test suite (2015 edition) and the
/// examples of the S3 "Signature Version 4, Authorization header" docs.
/// The expected signatures are AWS's published values.
final class SigV4VectorTests: XCTestCase {
    private let suiteCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    private let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    private let suiteHost = (name: "host", value: "example.amazonaws.com")

    private struct Vector {
        var name: String
        var method = "GET"
        var path = "/"
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body = ""
        var signedHeaders = "host;x-amz-date"
        var signature: String
    }

    private var suite: [Vector] {
        [
            Vector(name: "get-vanilla", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            Vector(
                name: "get-unreserved", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
            ),
            Vector(name: "get-slashes", path: "//example//", signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
            Vector(
                name: "get-vanilla-query-order-key-case",
                query: [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")],
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            ),
            Vector(
                name: "get-vanilla-query-order-value",
                query: [(name: "Param1", value: "value2"), (name: "Param1", value: "value1")],
                signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"
            ),
            Vector(
                name: "get-vanilla-utf8-query", query: [(name: "\u{1234}", value: "bar")],
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
            ),
            Vector(
                name: "get-header-value-order",
                headers: ["value4", "value1", "value3", "value2"].map { (name: "My-Header1", value: $0) },
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"
            ),
            Vector(
                name: "get-header-key-duplicate",
                headers: ["value2", "value2", "value1"].map { (name: "My-Header1", value: $0) },
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
            ),
            Vector(
                name: "get-header-value-trim",
                headers: [(name: "My-Header1", value: " value1"), (name: "My-Header2", value: "\"a   b   c\"")],
                signedHeaders: "host;my-header1;my-header2;x-amz-date",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            ),
            Vector(
                name: "post-x-www-form-urlencoded", method: "POST",
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                body: "Param1=value1", signedHeaders: "content-type;host;x-amz-date",
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
            ),
        ]
    }

    func testSuiteVectors() {
        let signer = SigV4Signer(credentials: suiteCredentials, region: "us-east-1", service: "service")
        for vector in suite {
            let signed = signer.sign(
                method: vector.method, path: vector.path, query: vector.query,
                headers: [suiteHost] + vector.headers, payloadHash: SigV4Signer.sha256Hex(Data(vector.body.utf8)),
                date: suiteDate
            )
            XCTAssertEqual(
                signed.authorization,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)",
                vector.name
            )
        }
    }

    func testSuiteCanonicalQueryIsSortedAndEncoded() {
        let signer = SigV4Signer(credentials: suiteCredentials, region: "us-east-1", service: "service")
        let signed = signer.sign(
            method: "GET", path: "/", query: [(name: "Param2", value: "value2"), (name: "Param1", value: "value1")],
            headers: [suiteHost], payloadHash: SigV4Signer.emptyPayloadHash, date: suiteDate
        )
        XCTAssertEqual(signed.canonicalQuery, "Param1=value1&Param2=value2")
        XCTAssertEqual(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2], "Param1=value1&Param2=value2")
    }

    /// post-sts-token/post-sts-header-before: the token is a signed header.
    func testSuiteSessionTokenVector() {
        var credentials = suiteCredentials
        credentials.sessionToken = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let signed = signer.sign(method: "POST", path: "/", headers: [suiteHost], payloadHash: SigV4Signer.emptyPayloadHash, date: suiteDate)
        XCTAssertEqual(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                + "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        )
        XCTAssertTrue(signed.addedHeaders.contains { $0.name == "x-amz-security-token" && $0.value == credentials.sessionToken })
    }

    /// The suite's get-space and get-utf8 publish these canonical URIs for
    /// a path encoded once (the S3 rule); other services encode twice.
    func testCanonicalURIRules() {
        let s3 = SigV4Signer.s3(credentials: suiteCredentials, region: "us-east-1")
        XCTAssertEqual(s3.canonicalURI(AWSPercentEncoding.encodePath("/example space/")), "/example%20space/")
        XCTAssertEqual(s3.canonicalURI(AWSPercentEncoding.encodePath("/\u{1234}")), "/%E1%88%B4")
        XCTAssertEqual(s3.canonicalURI("//a//b"), "//a//b", "S3 keys are not normalized")
        let other = SigV4Signer(credentials: suiteCredentials, region: "us-east-1", service: "lambda")
        XCTAssertEqual(other.canonicalURI("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations"),
                       "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations")
        XCTAssertEqual(other.canonicalURI("/a/./b/../c/"), "/a/c/")
        XCTAssertEqual(other.canonicalURI(""), "/")
    }

    // MARK: S3 documentation examples

    private let docsCredentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    private let docsDate = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    private let docsHost = (name: "host", value: "examplebucket.s3.amazonaws.com")

    private func docsSign(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], payloadHash: String = SigV4Signer.emptyPayloadHash
    ) -> SigV4Signer.Signature {
        SigV4Signer.s3(credentials: docsCredentials, region: "us-east-1").sign(
            method: method, path: path, query: query,
            headers: [docsHost, (name: "x-amz-content-sha256", value: payloadHash)] + headers,
            payloadHash: payloadHash, date: docsDate
        )
    }

    private func docsAuthorization(_ signedHeaders: String, _ signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    func testS3GetObjectWithRange() {
        let signed = docsSign(method: "GET", path: "/test.txt", headers: [(name: "Range", value: "bytes=0-9")])
        XCTAssertEqual(signed.canonicalRequest, """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(signed.stringToSign, """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        XCTAssertEqual(signed.authorization, docsAuthorization(
            "host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ))
    }

    func testS3PutObject() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let hash = SigV4Signer.sha256Hex(body)
        XCTAssertEqual(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = docsSign(
            method: "PUT", path: "/" + AWSPercentEncoding.encodePath("test$file.text"),
            headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"), (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")],
            payloadHash: hash
        )
        XCTAssertTrue(signed.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        XCTAssertEqual(signed.authorization, docsAuthorization(
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ))
    }

    func testS3GetBucketLifecycle() {
        let signed = docsSign(method: "GET", path: "/", query: [(name: "lifecycle", value: "")])
        XCTAssertEqual(signed.canonicalQuery, "lifecycle=")
        XCTAssertEqual(signed.authorization, docsAuthorization(
            "host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        ))
    }

    func testS3ListObjects() {
        let signed = docsSign(method: "GET", path: "/", query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")])
        XCTAssertEqual(signed.canonicalQuery, "max-keys=2&prefix=J")
        XCTAssertEqual(signed.authorization, docsAuthorization(
            "host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ))
    }
}
