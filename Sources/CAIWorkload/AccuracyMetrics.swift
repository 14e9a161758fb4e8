import Foundation

/// Why accuracy metrics could not be computed.
public enum AccuracyMetricsError: Error, CustomStringConvertible, Equatable {
    case countMismatch(predictions: Int, redshifts: Int)
    case nonFinite(what: String, index: Int, value: Double)
    case redshiftNotAboveMinusOne(index: Int, value: Double)

    public var description: String {
        switch self {
        case let .countMismatch(predictions, redshifts):
            return "accuracy metrics need one prediction per redshift, got \(predictions) predictions and \(redshifts) redshifts"
        case let .nonFinite(what, index, value):
            return "accuracy metrics: \(what) \(index) is \(value), not a finite number"
        case let .redshiftNotAboveMinusOne(index, value):
            return "accuracy metrics: redshift \(index) is \(value); dz = (p - z)/(1 + z) needs z > -1"
        }
    }
}

/// Redshift-estimation accuracy as the AstroMAE authors report it.
///
/// With prediction p, true redshift z and the normalised residual
/// dz = (p − z) / (1 + z), over n samples:
/// - `mae` = mean |p − z| (raw residuals)
/// - `mse` = mean (p − z)² (raw residuals)
/// - `bias` = mean dz
/// - `precision` = 1.48 × median |dz − median dz| (the normalised median
///   absolute deviation, σ_NMAD; the median of an even count is the mean of
///   the two middle values)
/// - `r2` = 1 − Σ(p − z)² / Σ(z − mean z)², nil when every z is the same
///   (the ratio is undefined)
/// All sums are accumulated in Double.
public struct AccuracyMetrics: Codable, Equatable, Sendable {
    public let count: Int
    public let mae: Double
    public let mse: Double
    public let bias: Double
    public let precision: Double
    public let r2: Double?

    public init(count: Int, mae: Double, mse: Double, bias: Double, precision: Double, r2: Double?) {
        self.count = count
        self.mae = mae
        self.mse = mse
        self.bias = bias
        self.precision = precision
        self.r2 = r2
    }

    /// Metrics of `predictions` against `redshifts`; nil when both are empty
    /// (an idle rank). Lengths must match and every value must be finite.
    public static func compute<P: Collection, Z: Collection>(predictions: P, redshifts: Z) throws -> AccuracyMetrics?
        where P.Element: BinaryFloatingPoint, Z.Element: BinaryFloatingPoint {
        var accumulator = AccuracyAccumulator()
        try accumulator.add(predictions: predictions, redshifts: redshifts)
        return accumulator.metrics()
    }

    /// Median of `values` (mean of the two middle values for an even count).
    static func median(_ values: inout [Double]) -> Double {
        precondition(!values.isEmpty)
        values.sort()
        let middle = values.count / 2
        if values.count % 2 == 1 { return values[middle] }
        return (values[middle - 1] + values[middle]) / 2
    }
}

/// Collects predictions batch by batch (a rank's whole run) so the medians
/// behind `precision` can be taken over all of them at the end.
public struct AccuracyAccumulator: Sendable {
    private var predictions: [Double] = []
    private var redshifts: [Double] = []

    public init() {}

    /// Samples added so far.
    public var count: Int { predictions.count }

    /// Appends one batch; nothing is added if the batch is rejected.
    public mutating func add<P: Collection, Z: Collection>(predictions batch: P, redshifts labels: Z) throws
        where P.Element: BinaryFloatingPoint, Z.Element: BinaryFloatingPoint {
        guard batch.count == labels.count else {
            throw AccuracyMetricsError.countMismatch(predictions: batch.count, redshifts: labels.count)
        }
        let newPredictions = batch.map { Double($0) }
        let newRedshifts = labels.map { Double($0) }
        if let bad = newPredictions.firstIndex(where: { !$0.isFinite }) {
            throw AccuracyMetricsError.nonFinite(what: "prediction", index: count + bad, value: newPredictions[bad])
        }
        if let bad = newRedshifts.firstIndex(where: { !$0.isFinite }) {
            throw AccuracyMetricsError.nonFinite(what: "redshift", index: count + bad, value: newRedshifts[bad])
        }
        if let bad = newRedshifts.firstIndex(where: { $0 <= -1 }) {
            throw AccuracyMetricsError.redshiftNotAboveMinusOne(index: count + bad, value: newRedshifts[bad])
        }
        predictions.append(contentsOf: newPredictions)
        redshifts.append(contentsOf: newRedshifts)
    }

    /// The metrics over everything added, nil if nothing was.
    public func metrics() -> AccuracyMetrics? {
        let n = predictions.count
        guard n > 0 else { return nil }
        var absSum = 0.0, squareSum = 0.0, zSum = 0.0
        var dz = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let residual = predictions[i] - redshifts[i]
            absSum += abs(residual)
            squareSum += residual * residual
            zSum += redshifts[i]
            dz[i] = residual / (1 + redshifts[i])
        }
        let bias = dz.reduce(0, +) / Double(n)
        var sorted = dz
        let center = AccuracyMetrics.median(&sorted)
        var deviations = dz.map { abs($0 - center) }
        let precision = 1.48 * AccuracyMetrics.median(&deviations)
        let zMean = zSum / Double(n)
        var total = 0.0
        for z in redshifts { total += (z - zMean) * (z - zMean) }
        let r2: Double? = total > 0 ? 1 - squareSum / total : nil
        return AccuracyMetrics(count: n, mae: absSum / Double(n), mse: squareSum / Double(n),
                               bias: bias, precision: precision, r2: r2)
    }
}
