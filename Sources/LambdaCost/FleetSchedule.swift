import Foundation

/// How many ranks may run at once, over time.
///
/// Reading of Lambda's scaling rule (AWS Lambda developer guide, "Lambda
/// scaling behavior", as stated in the issue: each function scales by 1,000
/// concurrent executions every 10 seconds up to the account's concurrency;
/// default account concurrency 1,000): at t = 0 up
/// to `burst` executions may run; the limit then rises by `scalingIncrement`
/// at t = 10 s, 20 s, ... (every `scalingIntervalSeconds`) until it reaches
/// `accountConcurrency`. The limit bounds executions *running*, not starts:
/// a slot freed by a finished rank is reused at once (a warm environment),
/// without waiting for the next step.
///
/// The Step Functions distributed map's `MaxConcurrency` caps running
/// children too; 0 means no cap of its own, as in the map's definition
/// (Step Functions then runs up to 10,000 children, per the Step Functions
/// developer guide's distributed map page, far above the Lambda account
/// limit, so that bound is not modelled). Items start in order.
public struct ScalingModel: Codable, Equatable, Sendable {
    /// Account (regional) concurrent-execution limit.
    public var accountConcurrency: Int = 1_000
    /// Executions allowed to run at t = 0.
    public var burst: Int = 1_000
    /// Rise of the limit at each scaling step.
    public var scalingIncrement: Int = 1_000
    /// Seconds between scaling steps.
    public var scalingIntervalSeconds: Double = 10
    /// The map's MaxConcurrency; 0 = unlimited.
    public var mapMaxConcurrency: Int = 0

    public init(
        accountConcurrency: Int = 1_000,
        burst: Int = 1_000,
        scalingIncrement: Int = 1_000,
        scalingIntervalSeconds: Double = 10,
        mapMaxConcurrency: Int = 0
    ) {
        self.accountConcurrency = accountConcurrency
        self.burst = burst
        self.scalingIncrement = scalingIncrement
        self.scalingIntervalSeconds = scalingIntervalSeconds
        self.mapMaxConcurrency = mapMaxConcurrency
    }

    private enum CodingKeys: String, CodingKey {
        case accountConcurrency, burst, scalingIncrement, scalingIntervalSeconds, mapMaxConcurrency
    }

    /// Missing keys take the defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ScalingModel()
        accountConcurrency = try c.decodeIfPresent(Int.self, forKey: .accountConcurrency) ?? d.accountConcurrency
        burst = try c.decodeIfPresent(Int.self, forKey: .burst) ?? d.burst
        scalingIncrement = try c.decodeIfPresent(Int.self, forKey: .scalingIncrement) ?? d.scalingIncrement
        scalingIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .scalingIntervalSeconds)
            ?? d.scalingIntervalSeconds
        mapMaxConcurrency = try c.decodeIfPresent(Int.self, forKey: .mapMaxConcurrency) ?? d.mapMaxConcurrency
    }

    /// The most that may ever run at once: the account limit, or MaxConcurrency if smaller.
    public var ceiling: Int {
        mapMaxConcurrency > 0 ? min(accountConcurrency, mapMaxConcurrency) : accountConcurrency
    }

    /// Scaling steps after which the limit stops rising.
    var stepsToCeiling: Int {
        let gap = ceiling - burst
        guard gap > 0, scalingIncrement > 0 else { return 0 }
        return (gap + scalingIncrement - 1) / scalingIncrement
    }

    /// The limit after `steps` scaling steps.
    func limit(afterSteps steps: Int) -> Int {
        let grown = burst + scalingIncrement * min(steps, stepsToCeiling)
        return min(grown, ceiling)
    }

    /// The concurrency limit in force at time `t` seconds (a step at exactly t counts).
    public func concurrencyLimit(at t: Double) -> Int {
        guard t >= 0 else { return limit(afterSteps: 0) }
        let steps = (t / scalingIntervalSeconds + 1e-9).rounded(.down)
        return limit(afterSteps: steps >= Double(stepsToCeiling) ? stepsToCeiling : Int(steps))
    }

    func validate() throws {
        for (name, value) in [
            ("accountConcurrency", accountConcurrency), ("burst", burst),
            ("scalingIncrement", scalingIncrement), ("mapMaxConcurrency", mapMaxConcurrency),
        ] where value < 0 {
            throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must not be negative")
        }
        if accountConcurrency < 1 {
            throw LambdaCostError.invalidParameter(
                name: "accountConcurrency", value: "\(accountConcurrency)", reason: "must be at least 1")
        }
        if burst < 1 && scalingIncrement < 1 {
            throw LambdaCostError.invalidParameter(
                name: "burst", value: "\(burst)", reason: "with scalingIncrement 0 nothing could ever start")
        }
        try requirePositive(scalingIntervalSeconds, "scalingIntervalSeconds")
    }
}

/// When each rank of a fleet runs, and what that adds up to.
public struct FleetSchedule: Codable, Equatable, Sendable {
    /// Start time of each rank, seconds from the map's start, in rank order.
    public var startTimes: [Double]
    /// End time of each rank.
    public var endTimes: [Double]
    /// Time until the last rank ends (0 for an empty fleet).
    public var makespanSeconds: Double
    /// Most ranks running at one instant (a rank ending at t and one starting at t do not overlap).
    public var peakConcurrency: Int
}

/// Simulates a distributed map starting ranks of the given durations (seconds)
/// under `scaling`: at every instant where a rank ends or the limit rises, the
/// next ranks in order start while fewer than the limit are running.
public func simulateFleet(durations: [Double], scaling: ScalingModel = ScalingModel()) throws -> FleetSchedule {
    try scaling.validate()
    for (i, d) in durations.enumerated() {
        try requireFinite(d, "durations[\(i)]")
    }
    var starts = [Double](repeating: 0, count: durations.count)
    var ends = [Double](repeating: 0, count: durations.count)
    var running = MinHeap()
    var next = 0
    var steps = 0
    var peak = 0
    var t = 0.0
    while next < durations.count {
        while let first = running.min, first <= t {
            running.removeMin()
        }
        while steps < scaling.stepsToCeiling, scaling.scalingIntervalSeconds * Double(steps + 1) <= t {
            steps += 1
        }
        let limit = scaling.limit(afterSteps: steps)
        while next < durations.count, running.count < limit {
            starts[next] = t
            ends[next] = t + durations[next]
            running.insert(ends[next])
            next += 1
        }
        peak = max(peak, running.count)
        guard next < durations.count else { break }
        let nextStep = steps < scaling.stepsToCeiling
            ? scaling.scalingIntervalSeconds * Double(steps + 1) : Double.infinity
        t = min(running.min ?? Double.infinity, nextStep)
    }
    return FleetSchedule(
        startTimes: starts,
        endTimes: ends,
        makespanSeconds: ends.max() ?? 0,
        peakConcurrency: peak
    )
}

/// `simulateFleet` for `ranks` ranks of equal duration.
public func simulateFleet(ranks: Int, durationSeconds: Double, scaling: ScalingModel = ScalingModel()) throws
    -> FleetSchedule
{
    guard ranks >= 0 else {
        throw LambdaCostError.invalidParameter(name: "ranks", value: "\(ranks)", reason: "must not be negative")
    }
    return try simulateFleet(durations: [Double](repeating: durationSeconds, count: ranks), scaling: scaling)
}

/// Binary min-heap of end times.
struct MinHeap {
    private var items: [Double] = []

    var count: Int { items.count }
    var min: Double? { items.first }

    mutating func insert(_ value: Double) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeMin() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
