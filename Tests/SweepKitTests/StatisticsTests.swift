import SweepKit
import XCTest

final class StatisticsTests: XCTestCase {
    /// [1, 2, 3, 4, 100]: Q1 = 2, Q3 = 4 (h = 1 and 3 exactly), IQR = 2,
    /// fences [-1, 7] drop 100, IQR mean = (1 + 2 + 3 + 4) / 4 = 2.5.
    func testIQRMeanDropsOutlier() throws {
        let s = try XCTUnwrap(SampleStatistics([100, 3, 1, 4, 2]))
        XCTAssertEqual(s.q1, 2)
        XCTAssertEqual(s.q3, 4)
        XCTAssertEqual(s.iqrMean, 2.5)
        XCTAssertEqual(s.iqrKept, 4)
        XCTAssertEqual(s.mean, 22)
        XCTAssertEqual(s.median, 3)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 100)
        // Sample SD: squares of (-21, -20, -19, -18, 78) sum to 7610; / 4 = 1902.5.
        XCTAssertEqual(s.standardDeviation, 1902.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.coefficientOfVariation, 1902.5.squareRoot() / 22, accuracy: 1e-12)
    }

    /// Six values need interpolation: sorted [10, 11, 12, 13, 15, 40];
    /// Q1 at h = 1.25 → 11.25, Q3 at h = 3.75 → 14.5, IQR 3.25, fences
    /// [6.375, 19.375] keep five values, mean 61 / 5 = 12.2; median 12.5.
    func testInterpolatedQuartiles() throws {
        let s = try XCTUnwrap(SampleStatistics([10, 12, 13, 15, 40, 11]))
        XCTAssertEqual(s.q1, 11.25, accuracy: 1e-12)
        XCTAssertEqual(s.q3, 14.5, accuracy: 1e-12)
        XCTAssertEqual(s.iqrMean, 12.2, accuracy: 1e-12)
        XCTAssertEqual(s.iqrKept, 5)
        XCTAssertEqual(s.median, 12.5, accuracy: 1e-12)
    }

    /// Without outliers the IQR mean is the mean (CAI's three repetitions).
    func testThreeRepetitions() throws {
        let s = try XCTUnwrap(SampleStatistics([6.4, 6.6, 6.5]))
        XCTAssertEqual(s.median, 6.5, accuracy: 1e-12)
        XCTAssertEqual(s.iqrMean, s.mean, accuracy: 1e-12)
        XCTAssertEqual(s.mean, 6.5, accuracy: 1e-12)
        // SD = 0.1 exactly in decimal: squares 0.01 + 0 + 0.01 over 2.
        XCTAssertEqual(s.coefficientOfVariation, 0.1 / 6.5, accuracy: 1e-12)
    }

    func testSingleValueAndEmpty() throws {
        let s = try XCTUnwrap(SampleStatistics([7]))
        XCTAssertEqual(s.median, 7)
        XCTAssertEqual(s.iqrMean, 7)
        XCTAssertEqual(s.coefficientOfVariation, 0)
        XCTAssertNil(SampleStatistics([]))
        XCTAssertNil(SampleStatistics([1, .nan]))
        XCTAssertEqual(SampleStatistics.median([4, 1, 3, 2]), 2.5)
        XCTAssertNil(SampleStatistics.median([]))
    }

    func testOrderDoesNotMatter() throws {
        let a = try XCTUnwrap(SampleStatistics([0.1, 0.2, 0.3, 5, 0.25]))
        let b = try XCTUnwrap(SampleStatistics([5, 0.25, 0.3, 0.1, 0.2]))
        XCTAssertEqual(a, b)
    }

    func testNumberFormatting() {
        XCTAssertEqual(NumberFormat.fixed(1.23456, 3), "1.235")
        XCTAssertEqual(NumberFormat.fixed(-0.0001, 2), "0.00")
        XCTAssertEqual(NumberFormat.fixed(.nan, 2), "")
        XCTAssertEqual(NumberFormat.trimmed(12.600, 6), "12.6")
        XCTAssertEqual(NumberFormat.trimmed(3, 2), "3")
        XCTAssertEqual(NumberFormat.significant(0.000123456, 3), "0.000123")
        XCTAssertEqual(NumberFormat.significant(1234.6, 3), "1235")
    }
}
