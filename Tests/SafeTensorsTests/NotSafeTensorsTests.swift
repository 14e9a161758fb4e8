import Foundation
import SafeTensors
import XCTest

/// A file that is not safetensors at all says so. Before, a text file was
/// reported as "header length 5269260421095515496 exceeds the limit".
final class NotSafeTensorsTests: XCTestCase {
    func testTextFileIsNamedAsText() throws {
        let text = Data("This is a text file, not a checkpoint.\nSecond line\n".utf8)
        assertRejects(text, .notSafeTensors(path: badPath, start: "text \"This is a text file, not a checkpoint.…\""))
        assertRejects(Data("{\"a\": 1}\n".utf8), .notSafeTensors(path: badPath, start: "text \"{\"a\": 1}…\""))
        assertRejects(Data("12345678".utf8), .notSafeTensors(path: badPath, start: "text \"12345678\""))
        let error = SafeTensorsError.notSafeTensors(path: "/x/w.safetensors", start: "text \"hello\"")
        XCTAssertEqual(error.description, "/x/w.safetensors: not a safetensors file: it starts with text \"hello\"")
    }

    func testZipArchiveIsNamed() throws {
        var zip = Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00])
        zip.append(Data(count: 64))
        assertRejects(zip, .notSafeTensors(path: badPath, start: "a zip signature (PK\\3\\4: a PyTorch .pt file?)"))
    }

    /// A binary length that is merely too large is still reported as such.
    func testBinaryLengthsKeepTheirErrors() throws {
        assertRejects(image("{}", length: 200_000_000), .headerTooLarge(path: badPath, length: 200_000_000, limit: 100_000_000))
        assertRejects(image("{}", length: 100), .headerLengthExceedsFile(path: badPath, length: 100, available: 2))
    }

    func testTextFileOnDisk() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("weights.safetensors")
        try Data("hello world, these are not weights".utf8).write(to: url)
        XCTAssertThrowsError(try SafeTensorsFile(contentsOf: url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): not a safetensors file: it starts with text \"hello world, these are not weights\"")
        }
    }
}
