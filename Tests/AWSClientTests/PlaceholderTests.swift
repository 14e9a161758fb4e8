import XCTest
@testable import AWSClient

final class AWSClientPlaceholderTests: XCTestCase {
    func testModuleBuilds() { XCTAssertEqual(1 + 1, 2) }
}
