import Foundation

/// Kind of child workflow the distributed map runs per item.
public enum ChildWorkflowType: String, Codable, CaseIterable, Sendable {
    /// Standard children: billed per state transition.
    case standard
    /// Express children: billed per execution plus duration x memory.
    case express
}

/// The Step Functions state machine CAI runs, as counted for billing.
///
/// Assumed CAI machine: a Standard parent with three states, Initializer
/// (Lambda task) -> distributed Map -> Summarizer (Lambda task), and per item a
/// child workflow with one state, the worker Lambda task. Counting follows the
/// Step Functions developer guide ("Transitions", read 2026-11-25): each state
/// entered is one transition, and a distributed map is charged one transition
/// per child execution it starts. So by default:
/// - Standard children: 3 + N x (1 start + 1 worker state) = 3 + 2N transitions;
/// - Express children: 3 + N x 1 transitions, plus N Express requests and N
///   Express durations (the child runs about as long as its Lambda invocation;
///   duration rounded up to 100 ms, memory `expressChildMemoryMB` billed in 64 MB
///   chunks; 64 MB assumed, since a one-state child with a small item stays in
///   the first chunk).
/// Retries would add transitions; none are assumed.
public struct StepFunctionsModel: Codable, Equatable, Sendable {
    /// Transitions of the parent's own states (Initializer, Map, Summarizer).
    public var parentTransitions: Int = 3
    /// Transitions the map is charged per child execution it starts.
    public var transitionsPerChildStart: Int = 1
    /// States entered inside each Standard child (ignored for Express children).
    public var transitionsPerStandardChild: Int = 1
    /// Standard or Express children.
    public var childType: ChildWorkflowType = .standard
    /// Memory an Express child is billed for, before rounding up to whole chunks.
    public var expressChildMemoryMB: Int = 64
    /// Seconds an Express child runs beyond its Lambda's billed duration.
    public var expressChildOverheadSeconds: Double = 0

    public init(
        parentTransitions: Int = 3,
        transitionsPerChildStart: Int = 1,
        transitionsPerStandardChild: Int = 1,
        childType: ChildWorkflowType = .standard,
        expressChildMemoryMB: Int = 64,
        expressChildOverheadSeconds: Double = 0
    ) {
        self.parentTransitions = parentTransitions
        self.transitionsPerChildStart = transitionsPerChildStart
        self.transitionsPerStandardChild = transitionsPerStandardChild
        self.childType = childType
        self.expressChildMemoryMB = expressChildMemoryMB
        self.expressChildOverheadSeconds = expressChildOverheadSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case parentTransitions, transitionsPerChildStart, transitionsPerStandardChild, childType
        case expressChildMemoryMB, expressChildOverheadSeconds
    }

    /// Missing keys take the defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = StepFunctionsModel()
        parentTransitions = try c.decodeIfPresent(Int.self, forKey: .parentTransitions) ?? d.parentTransitions
        transitionsPerChildStart = try c.decodeIfPresent(Int.self, forKey: .transitionsPerChildStart)
            ?? d.transitionsPerChildStart
        transitionsPerStandardChild = try c.decodeIfPresent(Int.self, forKey: .transitionsPerStandardChild)
            ?? d.transitionsPerStandardChild
        childType = try c.decodeIfPresent(ChildWorkflowType.self, forKey: .childType) ?? d.childType
        expressChildMemoryMB = try c.decodeIfPresent(Int.self, forKey: .expressChildMemoryMB) ?? d.expressChildMemoryMB
        expressChildOverheadSeconds = try c.decodeIfPresent(Double.self, forKey: .expressChildOverheadSeconds)
            ?? d.expressChildOverheadSeconds
    }

    /// Standard-workflow transitions for a map over `items` items.
    public func transitions(items: Int) -> Int {
        let perItem = transitionsPerChildStart + (childType == .standard ? transitionsPerStandardChild : 0)
        return parentTransitions + items * perItem
    }

    func validate() throws {
        for (name, value) in [
            ("parentTransitions", parentTransitions), ("transitionsPerChildStart", transitionsPerChildStart),
            ("transitionsPerStandardChild", transitionsPerStandardChild),
        ] where value < 0 {
            throw LambdaCostError.invalidParameter(
                name: "stepFunctions.\(name)", value: "\(value)", reason: "must not be negative")
        }
        if expressChildMemoryMB < 1 {
            throw LambdaCostError.invalidParameter(
                name: "stepFunctions.expressChildMemoryMB", value: "\(expressChildMemoryMB)",
                reason: "must be at least 1")
        }
        try requireFinite(expressChildOverheadSeconds, "stepFunctions.expressChildOverheadSeconds")
    }
}

/// S3 request counts of one run.
public struct S3Requests: Codable, Equatable, Sendable {
    public var gets: Int
    public var puts: Int
    public var lists: Int

    public init(gets: Int, puts: Int, lists: Int) {
        self.gets = gets
        self.puts = puts
        self.lists = lists
    }

    /// The requests of one CAI run:
    /// - GET: each partition file once, the model weights once per rank (every
    ///   Lambda loads its own copy; pass 0 when the weights ship in the
    ///   package), and, when `summarizerReadsRankResults`, each rank's JSON
    ///   once more as the summarizer combines them;
    /// - PUT: each rank's JSON, combined_data.json, and the run's payload;
    /// - LIST: the initializer's listing of the data prefix, one request per
    ///   1,000 keys (ListObjectsV2 page size), at least one.
    public static func caiPipeline(
        partitionFiles: Int,
        ranks: Int,
        listedObjects: Int? = nil,
        modelGetsPerRank: Int = 1,
        summarizerReadsRankResults: Bool = true
    ) throws -> S3Requests {
        let listed = listedObjects ?? partitionFiles
        for (name, value) in [
            ("partitionFiles", partitionFiles), ("ranks", ranks), ("listedObjects", listed),
            ("modelGetsPerRank", modelGetsPerRank),
        ] where value < 0 {
            throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must not be negative")
        }
        let gets = partitionFiles + modelGetsPerRank * ranks + (summarizerReadsRankResults ? ranks : 0)
        let puts = ranks + 2
        let lists = max(1, (listed + 999) / 1_000)
        return S3Requests(gets: gets, puts: puts, lists: lists)
    }
}

/// A Lambda invocation outside the map (CAI's Initializer or Summarizer).
public struct LambdaInvocation: Codable, Equatable, Sendable {
    public var memoryMB: Int
    public var billedMilliseconds: Int
    public var ephemeralStorageMB: Int

    public init(memoryMB: Int, billedMilliseconds: Int, ephemeralStorageMB: Int = 512) {
        self.memoryMB = memoryMB
        self.billedMilliseconds = billedMilliseconds
        self.ephemeralStorageMB = ephemeralStorageMB
    }
}

/// Dollars of one fleet run, by component.
public struct FleetCost: Codable, Equatable, Sendable {
    /// Lambda GB-seconds billed (ranks plus auxiliary invocations).
    public var lambdaGBSeconds: Double
    /// Lambda duration dollars, on the monthly tiers.
    public var lambdaDurationDollars: Double
    /// Lambda invocations.
    public var lambdaRequests: Int
    public var lambdaRequestDollars: Double
    /// GB-seconds of ephemeral storage above the included 512 MB.
    public var ephemeralStorageGBSeconds: Double
    public var ephemeralStorageDollars: Double
    /// Standard-workflow state transitions.
    public var stepFunctionsTransitions: Int
    public var stepFunctionsTransitionDollars: Double
    /// Express child executions (0 with Standard children).
    public var stepFunctionsExpressRequests: Int
    public var stepFunctionsExpressRequestDollars: Double
    /// Express GB-seconds after 100 ms and 64 MB rounding.
    public var stepFunctionsExpressGBSeconds: Double
    public var stepFunctionsExpressDurationDollars: Double
    /// S3 requests counted.
    public var s3Requests: S3Requests
    public var s3GetDollars: Double
    public var s3PutDollars: Double
    public var s3ListDollars: Double
    /// Sum of every component.
    public var totalDollars: Double
}

/// Costs a fleet: one Lambda invocation per rank (billed durations as given,
/// e.g. `RankDurationBreakdown.billedMilliseconds`), plus `auxiliaryInvocations`,
/// the Step Functions machine and the S3 requests.
///
/// Lambda GB = MB / 1,024. Duration is priced on the architecture's monthly
/// volume tiers starting from `priorMonthlyGBSeconds` of earlier usage this
/// month (0 by default: the run is the month's first usage). Auxiliary
/// invocations share the ranks' architecture.
public func fleetCost(
    rankBilledMilliseconds: [Int],
    memoryMB: Int,
    architecture: Architecture = .x86_64,
    ephemeralStorageMB: Int = 512,
    auxiliaryInvocations: [LambdaInvocation] = [],
    stepFunctions: StepFunctionsModel = StepFunctionsModel(),
    s3: S3Requests,
    priorMonthlyGBSeconds: Double = 0,
    prices: LambdaPrices = .usEast1
) throws -> FleetCost {
    try prices.validate()
    try stepFunctions.validate()
    try validateMemoryMB(memoryMB)
    try validateEphemeralStorageMB(ephemeralStorageMB)
    try requireFinite(priorMonthlyGBSeconds, "priorMonthlyGBSeconds")
    for (i, ms) in rankBilledMilliseconds.enumerated() where ms < 0 {
        throw LambdaCostError.invalidParameter(
            name: "rankBilledMilliseconds[\(i)]", value: "\(ms)", reason: "must not be negative")
    }
    for (i, aux) in auxiliaryInvocations.enumerated() {
        try validateMemoryMB(aux.memoryMB, parameter: "auxiliaryInvocations[\(i)].memoryMB")
        try validateEphemeralStorageMB(aux.ephemeralStorageMB, parameter: "auxiliaryInvocations[\(i)].ephemeralStorageMB")
        if aux.billedMilliseconds < 0 {
            throw LambdaCostError.invalidParameter(
                name: "auxiliaryInvocations[\(i)].billedMilliseconds", value: "\(aux.billedMilliseconds)",
                reason: "must not be negative")
        }
    }
    for (name, value) in [("s3.gets", s3.gets), ("s3.puts", s3.puts), ("s3.lists", s3.lists)] where value < 0 {
        throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must not be negative")
    }

    let ranks = rankBilledMilliseconds.count
    let rankMilliseconds = Double(rankBilledMilliseconds.reduce(0, +))
    let extraEphemeralGB = { (mb: Int) in Double(max(0, mb - prices.includedEphemeralStorageMB)) / 1_024 }

    var gbSeconds = Double(memoryMB) / 1_024 * rankMilliseconds / 1_000
    var ephemeralGBSeconds = extraEphemeralGB(ephemeralStorageMB) * rankMilliseconds / 1_000
    for aux in auxiliaryInvocations {
        let seconds = Double(aux.billedMilliseconds) / 1_000
        gbSeconds += Double(aux.memoryMB) / 1_024 * seconds
        ephemeralGBSeconds += extraEphemeralGB(aux.ephemeralStorageMB) * seconds
    }
    let durationDollars = try tieredDurationCost(
        gbSeconds: gbSeconds, priorMonthlyGBSeconds: priorMonthlyGBSeconds,
        tiers: prices.durationTiers(for: architecture))
    let requests = ranks + auxiliaryInvocations.count

    let transitions = stepFunctions.transitions(items: ranks)
    var expressRequests = 0
    var expressGBSeconds = 0.0
    if stepFunctions.childType == .express {
        expressRequests = ranks
        let chunk = prices.stepFunctionsExpressMemoryChunkMB
        let chunks = (stepFunctions.expressChildMemoryMB + chunk - 1) / chunk
        let billedGB = Double(chunks * chunk) / 1_024
        for ms in rankBilledMilliseconds {
            let seconds = Double(ms) / 1_000 + stepFunctions.expressChildOverheadSeconds
            let billed = try billedMilliseconds(
                seconds: max(0, seconds), granularityMs: prices.stepFunctionsExpressDurationGranularityMs)
            expressGBSeconds += billedGB * Double(billed) / 1_000
        }
    }

    var cost = FleetCost(
        lambdaGBSeconds: gbSeconds,
        lambdaDurationDollars: durationDollars,
        lambdaRequests: requests,
        lambdaRequestDollars: Double(requests) * prices.requestsPerMillion / 1e6,
        ephemeralStorageGBSeconds: ephemeralGBSeconds,
        ephemeralStorageDollars: ephemeralGBSeconds * prices.ephemeralStoragePerGBSecond,
        stepFunctionsTransitions: transitions,
        stepFunctionsTransitionDollars: Double(transitions) * prices.stepFunctionsStandardPerThousandTransitions / 1_000,
        stepFunctionsExpressRequests: expressRequests,
        stepFunctionsExpressRequestDollars: Double(expressRequests) * prices.stepFunctionsExpressPerMillionRequests / 1e6,
        stepFunctionsExpressGBSeconds: expressGBSeconds,
        stepFunctionsExpressDurationDollars: expressGBSeconds * prices.stepFunctionsExpressPerGBSecond,
        s3Requests: s3,
        s3GetDollars: Double(s3.gets) * prices.s3GetPerThousand / 1_000,
        s3PutDollars: Double(s3.puts) * prices.s3PutPerThousand / 1_000,
        s3ListDollars: Double(s3.lists) * prices.s3ListPerThousand / 1_000,
        totalDollars: 0
    )
    cost.totalDollars = cost.lambdaDurationDollars + cost.lambdaRequestDollars + cost.ephemeralStorageDollars
        + cost.stepFunctionsTransitionDollars + cost.stepFunctionsExpressRequestDollars
        + cost.stepFunctionsExpressDurationDollars + cost.s3GetDollars + cost.s3PutDollars + cost.s3ListDollars
    return cost
}
