import XCTest
@testable import LambdaRuntime

final class LambdaRuntimePlaceholderTests: XCTestCase {
    func testModuleBuilds() { XCTAssertEqual(1 + 1, 2) }
}
