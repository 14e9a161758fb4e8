import XCTest
@testable import AWSClient

final class S3ListingParserTests: XCTestCase {
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>cosmicai-data</Name><Prefix>100MB%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
          <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
          <Contents><Key>100MB/Anomaly%20Detection/1.safetensors</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
            <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>104857600</Size><StorageClass>STANDARD</StorageClass></Contents>
          <Contents><Key>100MB/a%2Bb%3D%C3%BC.json</Key><ETag>"abc"</ETag><Size>0</Size></Contents>
          <CommonPrefixes><Prefix>100MB/sub%20dir/</Prefix></CommonPrefixes>
        </ListBucketResult>
        """

    func testParsesAPageAndDecodesURLEncodedKeys() throws {
        let page = try S3ListingParser.parse(Data(Self.page.utf8))
        XCTAssertEqual(page.objects, [
            S3ObjectSummary(key: "100MB/Anomaly Detection/1.safetensors", size: 104_857_600, etag: "9b2cf535f27731c974343645a3985328"),
            S3ObjectSummary(key: "100MB/a+b=ü.json", size: 0, etag: "abc"),
        ])
        XCTAssertEqual(page.commonPrefixes, ["100MB/sub dir/"])
        XCTAssertTrue(page.isTruncated)
        XCTAssertEqual(page.nextContinuationToken, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    func testLastPageAndEmptyListing() throws {
        let empty = try S3ListingParser.parse(Data("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
        XCTAssertEqual(empty, S3ListPage(objects: [], commonPrefixes: [], isTruncated: false, nextContinuationToken: nil))
    }

    private func assertRejected(_ xml: String, mentioning words: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try S3ListingParser.parse(Data(xml.utf8)), file: file, line: line) { error in
            let text = String(describing: error)
            for word in words { XCTAssertTrue(text.contains(word), "'\(word)' missing from: \(text)", file: file, line: line) }
        }
    }

    func testErrorsNameWhatWasWrong() {
        assertRejected("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", mentioning: ["NextContinuationToken"])
        assertRejected("<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>", mentioning: ["IsTruncated", "maybe"])
        assertRejected("<ListBucketResult><Contents><Key>k1</Key><Size>-4</Size></Contents></ListBucketResult>", mentioning: ["Size", "k1", "-4"])
        assertRejected("<ListBucketResult><Contents><Key>k2</Key></Contents></ListBucketResult>", mentioning: ["k2", "<Size>"])
        assertRejected("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", mentioning: ["<Key>"])
        assertRejected("<ListBucketResult><Contents><Key>a</Key><Key>b</Key><Size>1</Size></Contents></ListBucketResult>", mentioning: ["two <Key>"])
        assertRejected("<Error><Code>AccessDenied</Code></Error>", mentioning: ["<Error>", "ListBucketResult"])
        assertRejected("<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key><Size>1</Size></Contents></ListBucketResult>",
                       mentioning: ["%zz", "URL encoding"])
        assertRejected("<ListBucketResult><Contents><Key>k</Key>", mentioning: ["ends before", "ListBucketResult"])
        assertRejected("<ListBucketResult a=\"1\" a=\"2\"></ListBucketResult>", mentioning: ["malformed XML", "line 1"])
        assertRejected("<ListBucketResult>\u{1}</ListBucketResult>", mentioning: ["control byte 0x1"])
        assertRejected("", mentioning: ["empty"])
        assertRejected(String(repeating: "<a>", count: 50), mentioning: ["nested deeper"])
    }

    func testRefusesEntityExpansion() {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
            <ListBucketResult><Contents><Key>&lol3;</Key><Size>1</Size></Contents></ListBucketResult>
            """
        assertRejected(laughs, mentioning: ["DTD"])
        assertRejected("<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><ListBucketResult/>", mentioning: ["DTD"])
        assertRejected("<ListBucketResult><Contents><Key>&undefined;</Key><Size>1</Size></Contents></ListBucketResult>", mentioning: ["undefined"])
    }

    /// FoundationXML crashed (a null pointer in strlen) on a processing
    /// instruction without data; the fuzzer's input and its shapes are
    /// refused before parsing, the ordinary declaration still parses.
    func testProcessingInstructionsOtherThanTheDeclarationAreRefused() throws {
        let crashes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Crashes/fuzz-s3-listing")
        for name in try FileManager.default.contentsOfDirectory(atPath: crashes.path) {
            XCTAssertThrowsError(try S3ListingParser.parse(Data(contentsOf: crashes.appendingPathComponent(name))), name)
        }
        assertRejected("<ListBucketResult><?x?></ListBucketResult>", mentioning: ["processing instruction"])
        assertRejected("<?xml version=\"1.0\"?><ListBucketResult><?pi data?></ListBucketResult>", mentioning: ["processing instruction"])
        assertRejected("<?xml version=\"1.0\" encoding=\"UTF-9\"?><ListBucketResult/>", mentioning: ["UTF-8"])
        assertRejected("<?xml version=\"1.0\"", mentioning: ["unterminated"])
        XCTAssertNoThrow(try S3ListingParser.parse(Data(Self.page.utf8)))
    }

    /// An S3 error body goes through the same guard: the listing's crash input is an unparsed error, not a crash.
    func testErrorDocumentsWithProcessingInstructionsFallBackToTheStatus() throws {
        let crashes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Crashes/fuzz-s3-listing")
        for name in try FileManager.default.contentsOfDirectory(atPath: crashes.path) {
            let body = try Data(contentsOf: crashes.appendingPathComponent(name))
            let document = S3ErrorDocument.parse(body, status: 403, headers: [])
            XCTAssertEqual(document.code, "AccessDenied", name)
            XCTAssertEqual(document.message, "unparsed error document", name)
        }
        let wrapped = "<Error><?x?><Code>NoSuchKey</Code></Error>"
        XCTAssertEqual(S3ErrorDocument.parse(Data(wrapped.utf8), status: 404, headers: []).code, "NotFound")
        let good = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>m</Message></Error>"
        XCTAssertEqual(S3ErrorDocument.parse(Data(good.utf8), status: 404, headers: []).code, "NoSuchKey")
    }

    /// Random corruptions of a valid page must yield a page or an error, never a crash or hang.
    func testMutatedDocumentsNeverCrash() {
        var generator = SplitMix64(seed: 11)
        let original = Array(Self.page.utf8)
        let alphabet = Array("<>/&;\"'=%!?[]-x0 \n".utf8)
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            _ = try? S3ListingParser.parse(Data(bytes))
            if bytes.count > 5 { _ = try? S3ListingParser.parse(Data(bytes[..<(bytes.count / 2)])) }
        }
    }
}

/// A small deterministic generator so the mutation test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
