import Foundation

/// Summary statistics of repeated timings, as the CAI analysis reported them.
///
/// Quartiles use linear interpolation between order statistics (Hyndman and
/// Fan type 7, the default of numpy.percentile and pandas.quantile, which the
/// CAI notebooks used): for sorted values x[0...n-1] and p in [0, 1], let
/// h = (n - 1)·p; Q(p) = x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]).
public struct SampleStatistics: Equatable, Sendable {
    public let count: Int
    public let mean: Double
    public let median: Double
    public let min: Double
    public let max: Double
    /// First and third quartile (type 7).
    public let q1: Double
    public let q3: Double
    /// CAI's outlier-filtered mean: the mean of the values inside
    /// [Q1 − 1.5·IQR, Q3 + 1.5·IQR], IQR = Q3 − Q1 (Tukey's fences).
    public let iqrMean: Double
    /// Values the fences kept.
    public let iqrKept: Int
    /// Sample standard deviation (n − 1 in the denominator; 0 for one value).
    public let standardDeviation: Double
    /// Coefficient of variation: standard deviation / mean (0 when the mean is 0).
    public let coefficientOfVariation: Double

    /// Statistics of `values`; nil for an empty list or any non-finite value.
    public init?(_ values: [Double]) {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        mean = Self.sum(sorted) / Double(count)
        median = Self.quantile(sorted: sorted, 0.5)
        min = sorted[0]
        max = sorted[count - 1]
        q1 = Self.quantile(sorted: sorted, 0.25)
        q3 = Self.quantile(sorted: sorted, 0.75)
        let iqr = q3 - q1
        let low = q1 - 1.5 * iqr, high = q3 + 1.5 * iqr
        let kept = sorted.filter { $0 >= low && $0 <= high }
        iqrKept = kept.count
        iqrMean = kept.isEmpty ? mean : Self.sum(kept) / Double(kept.count)
        if count > 1 {
            let m = mean
            let squares = Self.sum(sorted.map { ($0 - m) * ($0 - m) })
            standardDeviation = (squares / Double(count - 1)).squareRoot()
        } else {
            standardDeviation = 0
        }
        coefficientOfVariation = mean != 0 ? standardDeviation / Swift.abs(mean) : 0
    }

    /// Type-7 quantile of already sorted values.
    public static func quantile(sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of an empty list")
        let h = Double(sorted.count - 1) * Swift.min(Swift.max(p, 0), 1)
        let lower = Int(h.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// Median of unsorted values; nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : quantile(sorted: values.sorted(), 0.5)
    }

    /// Summation in sorted order, so the result does not depend on input order.
    private static func sum(_ sorted: [Double]) -> Double {
        sorted.reduce(0, +)
    }
}
