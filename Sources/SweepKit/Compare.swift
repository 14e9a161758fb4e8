import Foundation

/// `cosmicbench compare BASE NEW`: configuration-by-configuration comparison
/// of two sweep result directories (their `summary.csv`), for a CI gate.
public enum SweepComparison {
    /// A compared metric and which direction is worse.
    public struct Metric: Sendable {
        public var value: @Sendable (SummaryRow) -> Double?
        public var label: String
        /// True when a larger value is a regression (time, memory).
        public var higherIsWorse: Bool
        public var tolerance: Double
    }

    public enum Verdict: String, Sendable {
        case ok = "ok"
        case regression = "REGRESSION"
        case improvement = "improvement"
    }

    public struct Line: Sendable, Equatable {
        public var configuration: String
        public var metric: String
        public var base: Double
        public var new: Double
        /// (new − base) / base × 100.
        public var changePercent: Double
        public var tolerancePercent: Double
        public var verdict: Verdict
    }

    public struct Result: Sendable {
        public var lines: [Line]
        public var onlyInBase: [String]
        public var onlyInNew: [String]
        /// Configurations in both whose base or new run failed or is partial.
        public var notComparable: [String]
        /// Configurations whose runs all finished in BASE but not in NEW: regressions.
        public var newlyFailed: [String] = []
        /// How the two environments differ (CPU, OpenBLAS core and threads, commit, ...).
        public var environmentDifferences: [String] = []

        /// True when no metric of any configuration could be compared.
        public var nothingCompared: Bool { lines.isEmpty && newlyFailed.isEmpty }
        public var hasRegression: Bool { lines.contains { $0.verdict == .regression } || !newlyFailed.isEmpty }
        public var improvements: [Line] { lines.filter { $0.verdict == .improvement } }

        /// A Markdown report: the diff table, then missing configurations.
        public var markdown: String {
            var out = "## Sweep comparison\n\n"
            let rows = lines.map { line in
                [line.configuration, line.metric, NumberFormat.significant(line.base, 4),
                 NumberFormat.significant(line.new, 4),
                 (line.changePercent >= 0 ? "+" : "") + NumberFormat.fixed(line.changePercent, 1) + " %",
                 "±" + NumberFormat.trimmed(line.tolerancePercent, 1) + " %", line.verdict.rawValue]
            }
            if !environmentDifferences.isEmpty {
                out += "**The environments differ**, so differences may not be the code's:\n\n"
                out += environmentDifferences.map { "- \($0)\n" }.joined() + "\n"
            }
            if rows.isEmpty {
                out += "Nothing compared: no configuration has figures in both result sets.\n"
            } else {
                out += Tables.markdownTable(["Configuration", "Metric", "Base", "New", "Change", "Tolerance", "Verdict"],
                                            rows, rightAligned: [2, 3, 4, 5])
            }
            if !onlyInBase.isEmpty { out += "\nOnly in BASE (not compared): " + onlyInBase.joined(separator: ", ") + "\n" }
            if !onlyInNew.isEmpty { out += "\nOnly in NEW (not compared): " + onlyInNew.joined(separator: ", ") + "\n" }
            if !newlyFailed.isEmpty {
                out += "\n**Failed or partial in NEW but ok in BASE (regressions):** " + newlyFailed.joined(separator: ", ") + "\n"
            }
            if !notComparable.isEmpty {
                out += "\nNot ok in BASE (not compared): " + notComparable.joined(separator: ", ") + "\n"
            }
            let regressions = lines.filter { $0.verdict == .regression }.count + newlyFailed.count
            out += "\n"
            if regressions > 0 {
                out += "**\(regressions) regression(s) beyond tolerance.**\n"
            } else {
                out += "No regression beyond tolerance.\n"
            }
            if !improvements.isEmpty {
                out += "\(improvements.count) improvement(s) beyond tolerance: consider updating the baseline.\n"
            }
            return out
        }
    }

    /// The default metrics: median rank inference time and peak RSS (up is
    /// worse) and rank samples/s (down is worse), all at `tolerance`;
    /// `kinds` keeps a subset.
    public static func metrics(tolerance: Double, timeTolerance: Double? = nil, throughputTolerance: Double? = nil,
                               memoryTolerance: Double? = nil,
                               kinds: Set<MetricKind> = Set(MetricKind.allCases)) -> [Metric] {
        [
            kinds.contains(.time) ? Metric(value: { $0.measuredInferenceMedianS }, label: "median rank inference (s)",
                                           higherIsWorse: true, tolerance: timeTolerance ?? tolerance) : nil,
            kinds.contains(.throughput) ? Metric(value: { $0.measuredRankSamplesPerS }, label: "rank samples/s",
                                                 higherIsWorse: false, tolerance: throughputTolerance ?? tolerance) : nil,
            kinds.contains(.memory) ? Metric(value: { $0.measuredPeakRSSMB }, label: "peak RSS (MB)",
                                             higherIsWorse: true, tolerance: memoryTolerance ?? tolerance) : nil,
        ].compactMap { $0 }
    }

    /// The metrics `compare` can check.
    public enum MetricKind: String, CaseIterable, Sendable {
        case time, throughput, memory
    }

    /// Compares two result directories (or two summary.csv files).
    public static func compare(base: URL, new: URL, metrics: [Metric]) throws -> Result {
        var result = compare(base: try rows(at: base), new: try rows(at: new), metrics: metrics)
        result.environmentDifferences = environmentDifferences(environment(near: base), environment(near: new))
        return result
    }

    /// The environment.json beside a results directory or summary.csv, if any.
    static func environment(near url: URL) -> EnvironmentInfo? {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let directory = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        return try? EnvironmentInfo.read(SweepFiles(directory: directory).environment)
    }

    /// One line per field that differs; a missing environment is said so.
    public static func environmentDifferences(_ base: EnvironmentInfo?, _ new: EnvironmentInfo?) -> [String] {
        guard let base, let new else {
            return [base == nil ? "BASE has no environment.json" : nil, new == nil ? "NEW has no environment.json" : nil]
                .compactMap { $0 }
        }
        let fields: [(String, String, String)] = [
            ("CPU", base.cpuModel, new.cpuModel), ("cores", String(base.cores), String(new.cores)),
            ("OpenBLAS core", base.openBLASCore, new.openBLASCore),
            ("OpenBLAS threads", String(base.openBLASThreads), String(new.openBLASThreads)),
            ("commit", base.gitCommit, new.gitCommit), ("binary", base.binaryVersion, new.binaryVersion),
            ("weights", base.weightsSHA256 ?? "seeded", new.weightsSHA256 ?? "seeded"),
        ]
        return fields.filter { $0.1 != $0.2 }.map { "\($0.0): BASE \($0.1), NEW \($0.2)" }
    }

    /// Compares summary rows; the first row of each configuration is used
    /// (measured figures do not depend on the modelled memory).
    public static func compare(base: [SummaryRow], new: [SummaryRow], metrics: [Metric]) -> Result {
        let baseRows = firstByConfig(base), newRows = firstByConfig(new)
        var result = Result(lines: [], onlyInBase: [], onlyInNew: [], notComparable: [])
        for (id, b) in baseRows.order.map({ ($0, baseRows.rows[$0]!) }) {
            guard let n = newRows.rows[id] else {
                result.onlyInBase.append(id)
                continue
            }
            guard b.isOK else {
                result.notComparable.append(id)
                continue
            }
            guard n.isOK else {
                result.newlyFailed.append("\(id) (\(n.statusLabel))")
                continue
            }
            for metric in metrics {
                guard let bv = metric.value(b), let nv = metric.value(n) else { continue }
                let change = bv != 0 ? (nv - bv) / abs(bv) : (nv == 0 ? 0 : .infinity)
                let verdict = Self.verdict(base: bv, new: nv, higherIsWorse: metric.higherIsWorse,
                                           tolerance: metric.tolerance)
                result.lines.append(Line(configuration: id, metric: metric.label, base: bv, new: nv,
                                         changePercent: change * 100, tolerancePercent: metric.tolerance * 100,
                                         verdict: verdict))
            }
        }
        result.onlyInNew = newRows.order.filter { baseRows.rows[$0] == nil }
        return result
    }

    /// Judges by the factor the value got worse or better, not by the signed
    /// change, so a time and the matching rate agree: 1.38× the time and
    /// 1/1.38 of the samples/s are both a 38 % slowdown.
    static func verdict(base: Double, new: Double, higherIsWorse: Bool, tolerance: Double) -> Verdict {
        guard base > 0, new > 0 else {
            if base == new { return .ok }
            let worse = higherIsWorse ? new > base : new < base
            return worse ? .regression : .improvement
        }
        let worseFactor = higherIsWorse ? new / base : base / new
        if worseFactor - 1 > tolerance { return .regression }
        if 1 / worseFactor - 1 > tolerance { return .improvement }
        return .ok
    }

    private static func rows(at url: URL) throws -> [SummaryRow] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw SweepError.missingResults(path: url.path)
        }
        let file = isDirectory.boolValue ? SweepFiles(directory: url).summary : url
        guard FileManager.default.fileExists(atPath: file.path) else { throw SweepError.missingResults(path: url.path) }
        return try SummaryRow.read(file)
    }

    private static func firstByConfig(_ rows: [SummaryRow]) -> (order: [String], rows: [String: SummaryRow]) {
        var order: [String] = []
        var byID: [String: SummaryRow] = [:]
        for row in rows where byID[row.configID] == nil {
            order.append(row.configID)
            byID[row.configID] = row
        }
        return (order, byID)
    }
}
