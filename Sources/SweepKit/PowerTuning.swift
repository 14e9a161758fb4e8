import Foundation
import LambdaCost

extension SummaryRow {
    /// Why the modelled Lambda could not run this row, nil when it could (or
    /// the row is not modelled): a memory size below the measured peak RSS is
    /// killed by Lambda before it finishes, and a rank past Lambda's timeout
    /// never does. The summary says so in `modelled_lambda_fits` (and leaves
    /// their cost empty); older summaries are judged from their columns.
    public var lambdaCannotRunReason: String? {
        if let fits = modelledLambdaFits, fits.hasPrefix("no: ") { return String(fits.dropFirst("no: ".count)) }
        if let memory = modelledMemoryMB, let peak = measuredPeakRSSMB, Double(memory) < peak {
            return "\(memory) MB is below the measured peak RSS of \(NumberFormat.fixed(peak, 1)) MB"
        }
        if modelledExceedsTimeout == true {
            return "a rank runs past Lambda's \(NumberFormat.trimmed(LambdaLimits.timeoutSeconds, 0)) s timeout"
        }
        return nil
    }
}

/// The choice AWS Lambda Power Tuning puts in front of a user: cost against
/// duration over memory sizes, here over every configuration × memory
/// setting of a sweep (modelled fleet figures, one execution of the pipeline).
public enum PowerTuning {
    /// Weight of cost in the balanced pick; 1 − weight goes to makespan.
    public static let balanceWeight = 0.5

    /// One configuration at one memory setting: a point of the trade-off.
    public struct Choice: Equatable, Sendable {
        public var configID: String
        /// "auto" or the fixed size as given, as `modelled_memory_setting`.
        public var memorySetting: String
        public var memoryMB: Int
        /// `modelled_cost_total_usd`: the full breakdown, not the paper's formula.
        public var costUSD: Double
        public var makespanS: Double

        public init(configID: String, memorySetting: String, memoryMB: Int, costUSD: Double, makespanS: Double) {
            self.configID = configID
            self.memorySetting = memorySetting
            self.memoryMB = memoryMB
            self.costUSD = costUSD
            self.makespanS = makespanS
        }

        /// Nil unless every run of the row finished, it is modelled, and Lambda could run it.
        public init?(row: SummaryRow) {
            guard row.isOK, row.lambdaCannotRunReason == nil, let setting = row.modelledMemorySetting,
                  let memory = row.modelledMemoryMB, let cost = row.modelledCostTotalUSD,
                  let makespan = row.modelledMakespanS, cost.isFinite, makespan.isFinite else { return nil }
            self.init(configID: row.configID, memorySetting: setting, memoryMB: memory, costUSD: cost,
                      makespanS: makespan)
        }

        public var isAuto: Bool { memorySetting == "auto" }

        /// "1769 MB", or "auto (255 MB)".
        public var memoryLabel: String { isAuto ? "auto (\(memoryMB) MB)" : "\(memoryMB) MB" }

        /// A total order for ties: memory, then id, then setting.
        fileprivate var tieKey: (Int, String, String) { (memoryMB, configID, memorySetting) }
    }

    /// The three marked choices of a set.
    public struct Picks: Equatable, Sendable {
        /// Lowest cost; ties: shorter makespan, then less memory.
        public var cheapest: Choice
        /// Shortest makespan; ties: lower cost, then less memory.
        public var fastest: Choice
        /// Lowest w·cost/cost_min + (1 − w)·makespan/makespan_min (w = `balanceWeight`);
        /// ties: lower cost, then shorter makespan, then less memory.
        public var balanced: Choice

        /// The pick names a choice carries ("cheapest", "fastest", "balanced"), in that order.
        public func names(of choice: Choice) -> [String] {
            [("cheapest", cheapest), ("fastest", fastest), ("balanced", balanced)].filter { $0.1 == choice }.map(\.0)
        }
    }

    /// The cheapest, fastest and balanced choices; nil for an empty set.
    public static func picks(_ choices: [Choice], weight: Double = balanceWeight) -> Picks? {
        guard let cheapest = choices.min(by: { a, b in
            (a.costUSD, a.makespanS) != (b.costUSD, b.makespanS)
                ? (a.costUSD, a.makespanS) < (b.costUSD, b.makespanS) : a.tieKey < b.tieKey
        }), let fastest = choices.min(by: { a, b in
            (a.makespanS, a.costUSD) != (b.makespanS, b.costUSD)
                ? (a.makespanS, a.costUSD) < (b.makespanS, b.costUSD) : a.tieKey < b.tieKey
        }) else { return nil }
        let costFloor = cheapest.costUSD, timeFloor = fastest.makespanS
        func score(_ c: Choice) -> Double {
            weight * ratio(c.costUSD, costFloor) + (1 - weight) * ratio(c.makespanS, timeFloor)
        }
        let balanced = choices.min { a, b in
            let ka = (score(a), a.costUSD, a.makespanS), kb = (score(b), b.costUSD, b.makespanS)
            return ka != kb ? ka < kb : a.tieKey < b.tieKey
        }!
        return Picks(cheapest: cheapest, fastest: fastest, balanced: balanced)
    }

    /// `value / floor`, with a zero floor counting only an equal value as 1.
    private static func ratio(_ value: Double, _ floor: Double) -> Double {
        floor > 0 ? value / floor : (value == floor ? 1 : .infinity)
    }

    /// The non-dominated choices, fastest first: those no other choice beats
    /// on one of cost and makespan while at least matching it on the other.
    /// Choices with identical figures are all on the front.
    public static func paretoFront(_ choices: [Choice]) -> [Choice] {
        let sorted = choices.sorted { a, b in
            (a.makespanS, a.costUSD) != (b.makespanS, b.costUSD)
                ? (a.makespanS, a.costUSD) < (b.makespanS, b.costUSD) : a.tieKey < b.tieKey
        }
        var front: [Choice] = []
        for choice in sorted {
            guard let last = front.last else {
                front.append(choice)
                continue
            }
            // Every earlier choice is at most as slow; only a strictly lower cost escapes them.
            if choice.costUSD < last.costUSD
                || (choice.costUSD == last.costUSD && choice.makespanS == last.makespanS) {
                front.append(choice)
            }
        }
        return front
    }

    /// The workload a partition's memory chart shows: of its ok rows, the
    /// most common batch size (ties: the largest), then the fewest threads,
    /// then the largest amount of data (ties: the first id). Nil without ok rows.
    public static func representative(of rows: [SummaryRow]) -> String? {
        let ok = rows.filter(\.isOK)
        guard let batch = Report.mostCommonBatch(ok) else { return nil }
        let atBatch = ok.filter { $0.batchSize == batch }
        guard let threads = atBatch.map(\.threads).min() else { return nil }
        return atBatch.filter { $0.threads == threads }.min { a, b in
            let ga = Report.dataGB(a) ?? 0, gb = Report.dataGB(b) ?? 0
            return ga != gb ? ga > gb : a.configID < b.configID
        }?.configID
    }
}
