import LambdaCost
import XCTest

/// One unit rule for memory: bare = MB, "MB" / "GB" (1,024 MB) suffixes,
/// Lambda's 128...10,240 MB where asked. Before it, `parseMemory("1769")`
/// (the `cost --memory 1769` path) read 1,769 GB and accepted it.
final class MemoryAmountTests: XCTestCase {
    func testBareNumberIsMegabytes() throws {
        XCTAssertEqual(try MemoryAmount.parse("1769", requireLambdaBounds: true), 1769)
        XCTAssertEqual(try parseMemory("1769"), 1769.0 / 1024, accuracy: 1e-15)
        XCTAssertEqual(try MemorySetting(parsing: "1769"), .fixed(megabytes: 1769))
    }

    func testSuffixes() throws {
        XCTAssertEqual(try MemoryAmount.parse("1769MB", requireLambdaBounds: true), 1769)
        XCTAssertEqual(try MemoryAmount.parse("1769 mb", requireLambdaBounds: true), 1769)
        XCTAssertEqual(try MemoryAmount.parse("1.73GB", requireLambdaBounds: true), 1.73 * 1024, accuracy: 1e-9)
        XCTAssertEqual(try MemoryAmount.parse("2 GB", requireLambdaBounds: true), 2048)
        XCTAssertEqual(try MemoryAmount(parsing: "1782.9MB", requireLambdaBounds: true).gigabytes, 1782.9 / 1024)
        XCTAssertEqual(try MemoryAmount.parse("1782.9", requireLambdaBounds: false), 1782.9)
        XCTAssertEqual(try MemorySetting(parsing: "2GB"), .fixed(megabytes: 2048))
    }

    func testLambdaBounds() throws {
        XCTAssertEqual(try MemoryAmount.parse("128", requireLambdaBounds: true), 128)
        XCTAssertEqual(try MemoryAmount.parse("10GB", requireLambdaBounds: true), 10_240)
        XCTAssertEqual(try MemoryAmount.parse("64", requireLambdaBounds: false), 64)
        XCTAssertEqual(try MemoryAmount.parse("20GB", requireLambdaBounds: false), 20_480)
        for (bad, parts) in [("1769GB", ["1769GB = 1811456 MB", "maximum of 10240 MB"]),
                             ("10241", ["10241 MB", "maximum"]), ("127.5MB", ["127.5 MB", "minimum of 128 MB"]),
                             ("5.9", ["5.9 MB", "minimum", "bare number is MB"])] {
            XCTAssertThrowsError(try MemoryAmount.parse(bad, requireLambdaBounds: true), bad) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("\"\(bad)\""), message)
                for part in parts { XCTAssertTrue(message.contains(part), "\(part) not in \(message)") }
            }
            XCTAssertThrowsError(try parseMemory(bad), bad)
            XCTAssertThrowsError(try MemorySetting(parsing: bad), bad)
        }
    }

    /// Lambda is configured in whole MB; a formula input may be fractional.
    func testSettingsNeedWholeMegabytes() throws {
        XCTAssertEqual(try parseMemory("1.73GB"), 1.73, accuracy: 1e-12)
        XCTAssertThrowsError(try MemorySetting(parsing: "1.73GB")) { error in
            XCTAssertTrue("\(error)".contains("1771.52 MB is not a whole number of MB"), "\(error)")
        }
        XCTAssertThrowsError(try MemorySetting(parsing: "1782.9"))
    }

    func testRejectsMalformed() {
        for bad in ["", "GB", "abc", "2.8TB", "-1", "0", "1e3", "inf", "+2GB", "1,769"] {
            XCTAssertThrowsError(try MemoryAmount.parse(bad, requireLambdaBounds: false), bad) { error in
                guard case let LambdaCostError.invalidMemoryString(text, _) = error else {
                    return XCTFail("wrong error \(error) for \"\(bad)\"")
                }
                XCTAssertEqual(text, bad)
            }
        }
    }
}
