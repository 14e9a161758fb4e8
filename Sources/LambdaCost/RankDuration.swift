import Foundation

/// What one CAI rank cost when it ran locally, the input from which its
/// Lambda duration is modelled.
public struct LocalRankMeasurement: Codable, Equatable, Sendable {
    /// Seconds to build the model from its weights file (local disk, warm cache).
    public var modelLoadSeconds: Double
    /// Seconds to load and decode the rank's partition files locally.
    public var dataLoadSeconds: Double
    /// Inference wall seconds over the rank's data with 1 thread.
    public var inferenceSeconds1Thread: Double
    /// Inference wall seconds with 2 threads, when measured.
    public var inferenceSeconds2Threads: Double?
    /// Bytes of partition data the rank reads (fetched from S3 on Lambda).
    public var dataBytes: Int
    /// Bytes of model weights the rank reads from S3 on Lambda; 0 when the
    /// weights ship inside the deployment package.
    public var modelBytes: Int

    public init(
        modelLoadSeconds: Double,
        dataLoadSeconds: Double,
        inferenceSeconds1Thread: Double,
        inferenceSeconds2Threads: Double? = nil,
        dataBytes: Int,
        modelBytes: Int = 0
    ) {
        self.modelLoadSeconds = modelLoadSeconds
        self.dataLoadSeconds = dataLoadSeconds
        self.inferenceSeconds1Thread = inferenceSeconds1Thread
        self.inferenceSeconds2Threads = inferenceSeconds2Threads
        self.dataBytes = dataBytes
        self.modelBytes = modelBytes
    }

    /// Parallel efficiency of a second core, e = t1 / (2 x t2), clamped to 0...1
    /// (a measured e above 1 is cache luck or noise and must not make extra
    /// cores worth more than one each); `nil` without a 2-thread figure.
    public var parallelEfficiency: Double? {
        guard let t2 = inferenceSeconds2Threads, t2 > 0 else { return nil }
        return min(max(inferenceSeconds1Thread / (2 * t2), 0), 1)
    }

    func validate() throws {
        try requireFinite(modelLoadSeconds, "modelLoadSeconds")
        try requireFinite(dataLoadSeconds, "dataLoadSeconds")
        try requireFinite(inferenceSeconds1Thread, "inferenceSeconds1Thread")
        if let t2 = inferenceSeconds2Threads {
            try requirePositive(t2, "inferenceSeconds2Threads")
        }
        for (name, bytes) in [("dataBytes", dataBytes), ("modelBytes", modelBytes)] where bytes < 0 {
            throw LambdaCostError.invalidParameter(name: name, value: "\(bytes)", reason: "must not be negative")
        }
    }
}

/// Stated assumptions for moving a local measurement onto Lambda. None of
/// these is measured by the harness; a report should print them beside its
/// results.
public struct LambdaAssumptions: Codable, Equatable, Sendable {
    /// Cold-start (INIT) seconds per invocation: runtime start plus imports.
    /// Each rank is one invocation, and a distributed map starts them all at
    /// once, so every rank is assumed cold. INIT is billed.
    public var coldStartSeconds: Double = 1.0
    /// Sustained S3 GET bandwidth of one function, MB/s with MB = 10^6 bytes.
    /// An assumption: AWS publishes no figure, and single-stream reads from
    /// Lambda are commonly reported in the tens to low hundreds of MB/s.
    public var s3ReadMegabytesPerSecond: Double = 90
    /// Speed of one Lambda core relative to one local core (2 = Lambda twice as fast).
    public var cpuSpeedFactor: Double = 1.0
    /// Parallel efficiency used when no 2-thread figure was measured. 0 means
    /// "assume no gain beyond one core", the conservative choice.
    public var parallelEfficiencyWhenUnmeasured: Double = 0

    public init(
        coldStartSeconds: Double = 1.0,
        s3ReadMegabytesPerSecond: Double = 90,
        cpuSpeedFactor: Double = 1.0,
        parallelEfficiencyWhenUnmeasured: Double = 0
    ) {
        self.coldStartSeconds = coldStartSeconds
        self.s3ReadMegabytesPerSecond = s3ReadMegabytesPerSecond
        self.cpuSpeedFactor = cpuSpeedFactor
        self.parallelEfficiencyWhenUnmeasured = parallelEfficiencyWhenUnmeasured
    }

    private enum CodingKeys: String, CodingKey {
        case coldStartSeconds, s3ReadMegabytesPerSecond, cpuSpeedFactor, parallelEfficiencyWhenUnmeasured
    }

    /// Missing keys take the defaults, so a settings file names only what it changes.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LambdaAssumptions()
        coldStartSeconds = try c.decodeIfPresent(Double.self, forKey: .coldStartSeconds) ?? d.coldStartSeconds
        s3ReadMegabytesPerSecond = try c.decodeIfPresent(Double.self, forKey: .s3ReadMegabytesPerSecond)
            ?? d.s3ReadMegabytesPerSecond
        cpuSpeedFactor = try c.decodeIfPresent(Double.self, forKey: .cpuSpeedFactor) ?? d.cpuSpeedFactor
        parallelEfficiencyWhenUnmeasured = try c.decodeIfPresent(
            Double.self, forKey: .parallelEfficiencyWhenUnmeasured) ?? d.parallelEfficiencyWhenUnmeasured
    }

    func validate() throws {
        try requireFinite(coldStartSeconds, "coldStartSeconds")
        try requirePositive(s3ReadMegabytesPerSecond, "s3ReadMegabytesPerSecond")
        try requirePositive(cpuSpeedFactor, "cpuSpeedFactor")
        try requireFinite(parallelEfficiencyWhenUnmeasured, "parallelEfficiencyWhenUnmeasured")
        if parallelEfficiencyWhenUnmeasured > 1 {
            throw LambdaCostError.invalidParameter(
                name: "parallelEfficiencyWhenUnmeasured", value: "\(parallelEfficiencyWhenUnmeasured)",
                reason: "must be in 0...1")
        }
    }
}

/// One rank's modelled Lambda duration, by phase.
public struct RankDurationBreakdown: Codable, Equatable, Sendable {
    /// Configured memory, MB.
    public var memoryMB: Int
    /// vCPU share at that memory.
    public var vcpu: Double
    /// Parallel efficiency used (measured or assumed).
    public var parallelEfficiency: Double
    /// Cores' worth of inference speed: 1 + (vcpu - 1) x e at or above one vCPU, vcpu below.
    public var effectiveCores: Double
    /// INIT (cold start) seconds.
    public var initSeconds: Double
    /// Model weights fetch plus model build seconds.
    public var modelLoadSeconds: Double
    /// Partition fetch plus decode seconds.
    public var dataReadSeconds: Double
    /// Inference seconds.
    public var inferenceSeconds: Double
    /// Part of model load and data read spent on S3 transfer.
    public var s3TransferSeconds: Double
    /// Sum of the phases.
    public var totalSeconds: Double
    /// Billed duration: total (init included) rounded up to the billing granularity.
    public var billedMilliseconds: Int

    /// Billed duration in seconds.
    public var billedSeconds: Double { Double(billedMilliseconds) / 1_000 }
    /// True when the invocation would hit Lambda's 900 s timeout.
    public var exceedsTimeout: Bool { totalSeconds > LambdaLimits.timeoutSeconds }
}

/// Milliseconds Lambda bills for `seconds` of run time: rounded up to
/// `granularityMs`. A value within 1e-6 ms of a granule boundary counts as on
/// it, so binary rounding (0.1 + 0.2 s) does not add a spurious millisecond.
public func billedMilliseconds(seconds: Double, granularityMs: Int = 1) throws -> Int {
    try requireFinite(seconds, "seconds")
    guard granularityMs >= 1 else {
        throw LambdaCostError.invalidParameter(
            name: "granularityMs", value: "\(granularityMs)", reason: "must be at least 1")
    }
    let granules = seconds * 1_000 / Double(granularityMs)
    let nearest = granules.rounded()
    let whole = abs(granules - nearest) * Double(granularityMs) < 1e-6 ? nearest : granules.rounded(.up)
    return Int(whole) * granularityMs
}

/// Cores' worth of inference a function gets from `vcpu` vCPUs: the share
/// itself below one vCPU, and 1 + (vcpu - 1) x e above, e being the gain per
/// extra vCPU (`lambdaRankDuration`, and `calibrate` inverting it).
public func effectiveCores(vcpu: Double, parallelEfficiency e: Double) -> Double {
    vcpu >= 1 ? 1 + (vcpu - 1) * e : vcpu
}

/// Models one rank's duration on Lambda from its local measurement.
///
/// - init = `coldStartSeconds`.
/// - model load = modelBytes / bandwidth + local model load / (speed x min(1, vcpu)).
/// - data read = dataBytes / bandwidth + local data load / (speed x min(1, vcpu)).
///   The local load time is treated as CPU work (decoding) that remains on
///   Lambda, with the S3 transfer added on top; loading is single-threaded, so
///   it gains nothing above one vCPU but slows on a fractional share.
/// - inference = t1 / (speed x effectiveCores), effectiveCores = 1 + (vcpu - 1) x e
///   for vcpu >= 1 and vcpu for vcpu < 1, with e from the 2-thread measurement.
/// - billed = total rounded up to the billing granularity (1 ms), init included.
public func lambdaRankDuration(
    measured: LocalRankMeasurement,
    memoryMB: Int,
    assumptions: LambdaAssumptions = LambdaAssumptions(),
    prices: LambdaPrices = .usEast1
) throws -> RankDurationBreakdown {
    try validateMemoryMB(memoryMB)
    try measured.validate()
    try assumptions.validate()
    let vcpu = vcpuShare(memoryMB: Double(memoryMB))
    let e = measured.parallelEfficiency ?? assumptions.parallelEfficiencyWhenUnmeasured
    let cores = effectiveCores(vcpu: vcpu, parallelEfficiency: e)
    let speed = assumptions.cpuSpeedFactor
    let singleCore = speed * min(1, vcpu)
    let bytesPerSecond = assumptions.s3ReadMegabytesPerSecond * 1e6
    let modelTransfer = Double(measured.modelBytes) / bytesPerSecond
    let dataTransfer = Double(measured.dataBytes) / bytesPerSecond
    let modelLoad = modelTransfer + measured.modelLoadSeconds / singleCore
    let dataRead = dataTransfer + measured.dataLoadSeconds / singleCore
    let inference = measured.inferenceSeconds1Thread / (speed * cores)
    let total = assumptions.coldStartSeconds + modelLoad + dataRead + inference
    return RankDurationBreakdown(
        memoryMB: memoryMB,
        vcpu: vcpu,
        parallelEfficiency: e,
        effectiveCores: cores,
        initSeconds: assumptions.coldStartSeconds,
        modelLoadSeconds: modelLoad,
        dataReadSeconds: dataRead,
        inferenceSeconds: inference,
        s3TransferSeconds: modelTransfer + dataTransfer,
        totalSeconds: total,
        billedMilliseconds: try billedMilliseconds(seconds: total, granularityMs: prices.billingGranularityMs)
    )
}
