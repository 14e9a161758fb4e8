import AstroMAE
import XCTest

/// The accuracy check covers the threading the timed ranks use.
final class VerificationSessionTests: XCTestCase {
    func testSplitSessionIsChecked() throws {
        guard let fixture = Verifier.defaultFixtures().first else { return XCTFail("no golden fixture") }
        let report = try Verifier.verify(fixture: fixture, session: .init(threads: 2, parallelism: .splitBatch))
        XCTAssertTrue(report.passed, report.rendered())
        XCTAssertEqual(report.stages.last?.name, "session.redshift")
        XCTAssertEqual(report.blasThreads, 1, "split ranks run single-threaded BLAS")
        XCTAssertEqual(report.session, "2 threads, batch split over single-threaded BLAS")
        XCTAssertTrue(report.rendered().contains("session.redshift"))
    }

    func testNoSessionKeepsTheTracedStagesOnly() throws {
        guard let fixture = Verifier.defaultFixtures().first else { return XCTFail("no golden fixture") }
        let report = try Verifier.verify(fixture: fixture)
        XCTAssertFalse(report.stages.contains { $0.name == "session.redshift" })
        XCTAssertNil(report.session)
    }
}
