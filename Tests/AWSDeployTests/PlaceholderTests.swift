import XCTest
@testable import AWSDeploy

final class AWSDeployPlaceholderTests: XCTestCase {
    func testModuleBuilds() { XCTAssertEqual(1 + 1, 2) }
}
