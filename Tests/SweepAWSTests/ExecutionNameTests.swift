import SweepAWS
import XCTest

final class ExecutionNameTests: XCTestCase {
    func testNamesAreSafeUniqueAndCarryTheirAttempt() {
        let name = ExecutionName.make(sweep: "quick", configuration: "25MB-b32-12.6GB-t1", memoryMB: 1769,
                                      label: "rep2", attempt: 3)
        XCTAssertEqual(name, "quick-25MB-b32-12_6GB-t1-1769mb-rep2-a3")
        XCTAssertEqual(ExecutionName.attempt(of: name), 3)
        let long = ExecutionName.make(sweep: String(repeating: "s", count: 90), configuration: "c", memoryMB: 128,
                                      label: "rep1", attempt: 1)
        let other = ExecutionName.make(sweep: String(repeating: "s", count: 91), configuration: "c", memoryMB: 128,
                                       label: "rep1", attempt: 1)
        XCTAssertEqual(long.count, ExecutionName.maximumLength)
        XCTAssertNotEqual(long, other)
        XCTAssertEqual(ExecutionName.attempt(of: long), 1)
        XCTAssertTrue(long.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }
}
