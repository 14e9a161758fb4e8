@testable import AWSClient
import XCTest

/// Lambda's REPORT lines: cold and warm, tabs or spaces, extra fields, and
/// malformed ones refused instead of read as wrong numbers.
final class LambdaReportLineTests: XCTestCase {
    func testColdStartWithTabs() throws {
        let line = "REPORT RequestId: 8f5c-11\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1769 MB\t"
            + "Max Memory Used: 210 MB\tInit Duration: 301.2 ms\t\n"
        let report = try XCTUnwrap(try LambdaReportLine.parse(line))
        XCTAssertEqual(report, LambdaReportLine(
            requestID: "8f5c-11", durationMs: 12.34, billedDurationMs: 13, memorySizeMB: 1769,
            maxMemoryUsedMB: 210, initDurationMs: 301.2
        ))
        XCTAssertTrue(report.isColdStart)
    }

    func testWarmStartWithSpacesAndTrailingFields() throws {
        let line = "REPORT RequestId: abc Duration: 1001.50 ms Billed Duration: 1002 ms Memory Size: 3008 MB "
            + "Max Memory Used: 215 MB XRAY TraceId: 1-5e1b4151-5ac6 SegmentId: 6f2d Sampled: true"
        let report = try XCTUnwrap(LambdaReportLine(line))
        XCTAssertEqual(report.durationMs, 1001.5)
        XCTAssertEqual(report.billedDurationMs, 1002)
        XCTAssertEqual(report.memorySizeMB, 3008)
        XCTAssertNil(report.initDurationMs)
        XCTAssertFalse(report.isColdStart)
    }

    func testTimeoutStatusAndSnapStartFields() throws {
        let line = "REPORT RequestId: r1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
            + "Max Memory Used: 40 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 148 ms\tStatus: timeout"
        let report = try XCTUnwrap(try LambdaReportLine.parse(line))
        XCTAssertEqual(report.status, "timeout")
        XCTAssertNil(report.initDurationMs, "Restore Duration must not be taken for Init Duration")
        XCTAssertEqual(report.billedDurationMs, 3000)
    }

    func testOtherLinesAreNotReports() throws {
        for line in [
            "START RequestId: r1 Version: $LATEST", "END RequestId: r1", "", "REPORT", "REPORTRequestId: x",
            "rank 3 done: REPORT RequestId: x Duration: 1 ms", "REPORT something else entirely",
        ] {
            XCTAssertNil(try LambdaReportLine.parse(line), line)
        }
    }

    func testMalformedReportsAreRefused() {
        let base = "REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1769 MB\tMax Memory Used: 210 MB"
        let bad = [
            base.replacingOccurrences(of: "12.34", with: "12,34"),
            base.replacingOccurrences(of: "12.34", with: "1e3"),
            base.replacingOccurrences(of: "12.34", with: "nan"),
            base.replacingOccurrences(of: "12.34", with: "-1"),
            base.replacingOccurrences(of: "12.34", with: "12."),
            base.replacingOccurrences(of: "12.34", with: "0x1p3"),
            base.replacingOccurrences(of: "13 ms", with: "13.5 ms"),
            base.replacingOccurrences(of: "1769 MB", with: "1769 ms"),
            base.replacingOccurrences(of: "210 MB", with: "210"),
            base.replacingOccurrences(of: "\tBilled Duration: 13 ms", with: ""),
            base.replacingOccurrences(of: "Memory Size: 1769 MB", with: "Memory Size:"),
            base + "\tDuration: 1 ms",
            base + "\tInit Duration: soon ms",
            "REPORT RequestId: \tDuration: 12.34 ms",
            base.replacingOccurrences(of: "1769", with: "99999999999999"),
        ]
        for line in bad {
            XCTAssertThrowsError(try LambdaReportLine.parse(line), line) { error in
                XCTAssertTrue(String(describing: error).contains("malformed Lambda REPORT line"), "\(error)")
            }
            XCTAssertNil(LambdaReportLine(line), line)
        }
    }

    func testErrorNamesTheField() {
        let line = "REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: big MB\tMax Memory Used: 210 MB"
        XCTAssertThrowsError(try LambdaReportLine.parse(line)) { error in
            XCTAssertTrue(String(describing: error).contains("'Memory Size' value 'big'"), "\(error)")
        }
    }
}
