import CAIWorkload
import XCTest

final class AccuracyMetricsTests: XCTestCase {
    /// Hand-worked: z = [0, 1, 0.5, 0.25], p = [0.1, 0.8, 0.5, 0.5].
    /// residuals = [0.1, −0.2, 0, 0.25]; MAE = 0.55/4 = 0.1375;
    /// MSE = (0.01 + 0.04 + 0 + 0.0625)/4 = 0.028125;
    /// dz = [0.1, −0.1, 0, 0.2]; bias = 0.2/4 = 0.05;
    /// median dz = (0 + 0.1)/2 = 0.05; |dz − 0.05| = [0.05, 0.15, 0.05, 0.15],
    /// median = 0.1, precision = 0.148;
    /// mean z = 0.4375, SS_tot = 0.19140625 + 0.31640625 + 0.00390625 + 0.03515625 = 0.546875,
    /// R² = 1 − 0.1125/0.546875 = 0.794285714...
    func testHandWorkedEvenCount() throws {
        let m = try XCTUnwrap(AccuracyMetrics.compute(predictions: [Float(0.1), 0.8, 0.5, 0.5],
                                                      redshifts: [Double(0), 1, 0.5, 0.25]))
        XCTAssertEqual(m.count, 4)
        XCTAssertEqual(m.mae, 0.1375, accuracy: 1e-7)
        XCTAssertEqual(m.mse, 0.028125, accuracy: 1e-7)
        XCTAssertEqual(m.bias, 0.05, accuracy: 1e-7)
        XCTAssertEqual(m.precision, 0.148, accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(m.r2), 1 - 0.1125 / 0.546875, accuracy: 1e-6)
    }

    /// Odd count: z = [0, 0, 1], p = [0.5, −0.5, 3]: residuals [0.5, −0.5, 2],
    /// MAE = 1, MSE = 1.5, dz = [0.5, −0.5, 1], bias = 1/3, median dz = 0.5,
    /// |dz − 0.5| = [0, 1, 0.5] → median 0.5 → precision 0.74;
    /// SS_tot = 2/3, R² = 1 − 4.5/(2/3) = −5.75.
    func testHandWorkedOddCount() throws {
        let m = try XCTUnwrap(AccuracyMetrics.compute(predictions: [0.5, -0.5, 3.0], redshifts: [0.0, 0.0, 1.0]))
        XCTAssertEqual(m.mae, 1, accuracy: 1e-12)
        XCTAssertEqual(m.mse, 1.5, accuracy: 1e-12)
        XCTAssertEqual(m.bias, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.precision, 0.74, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.r2), -5.75, accuracy: 1e-12)
    }

    func testPerfectPredictionsAndConstantTargets() throws {
        let perfect = try XCTUnwrap(AccuracyMetrics.compute(predictions: [0.1, 0.2, 0.3], redshifts: [0.1, 0.2, 0.3]))
        XCTAssertEqual(perfect.mae, 0)
        XCTAssertEqual(perfect.precision, 0)
        XCTAssertEqual(perfect.r2, 1)
        let constant = try XCTUnwrap(AccuracyMetrics.compute(predictions: [0.1, 0.3], redshifts: [0.2, 0.2]))
        XCTAssertNil(constant.r2)
        XCTAssertEqual(constant.mae, 0.1, accuracy: 1e-12)
        let encoded = String(decoding: try JSONEncoder().encode(constant), as: UTF8.self)
        XCTAssertFalse(encoded.contains("\"r2\":"), encoded)
    }

    func testEmptyAndInvalidInput() throws {
        XCTAssertNil(try AccuracyMetrics.compute(predictions: [Float](), redshifts: [Float]()))
        XCTAssertThrowsError(try AccuracyMetrics.compute(predictions: [0.1, 0.2], redshifts: [0.1])) { error in
            XCTAssertEqual(error as? AccuracyMetricsError, .countMismatch(predictions: 2, redshifts: 1))
        }
        XCTAssertThrowsError(try AccuracyMetrics.compute(predictions: [0.1, .nan], redshifts: [0.1, 0.2]))
        XCTAssertThrowsError(try AccuracyMetrics.compute(predictions: [0.1], redshifts: [-1.0]))
    }

    func testAccumulatorEqualsOneShot() throws {
        let predictions: [Float] = [0.12, 0.31, 0.05, 0.44, 0.29, 0.61, 0.08]
        let redshifts: [Float] = [0.10, 0.35, 0.07, 0.40, 0.30, 0.55, 0.12]
        var accumulator = AccuracyAccumulator()
        try accumulator.add(predictions: predictions[0..<3], redshifts: redshifts[0..<3])
        try accumulator.add(predictions: predictions[3...], redshifts: redshifts[3...])
        XCTAssertThrowsError(try accumulator.add(predictions: [Float(1)], redshifts: [Float]()))
        XCTAssertEqual(accumulator.count, 7)
        XCTAssertEqual(accumulator.metrics(), try AccuracyMetrics.compute(predictions: predictions, redshifts: redshifts))
    }
}
