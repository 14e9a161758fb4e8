import Foundation

/// Lambda instruction set; duration prices and volume tiers differ per architecture.
public enum Architecture: String, Codable, CaseIterable, Sendable {
    case x86_64
    case arm64
}

/// One monthly volume tier of Lambda duration pricing. Tiers are cumulative:
/// a tier covers monthly usage from the previous tier's bound up to
/// `upToGBSeconds` (`nil` = no upper bound, the last tier).
public struct PriceTier: Codable, Equatable, Sendable {
    /// Upper bound of the tier in GB-seconds of usage this month; `nil` for the open last tier.
    public var upToGBSeconds: Double?
    /// Dollars per GB-second inside the tier.
    public var pricePerGBSecond: Double

    public init(upToGBSeconds: Double?, pricePerGBSecond: Double) {
        self.upToGBSeconds = upToGBSeconds
        self.pricePerGBSecond = pricePerGBSecond
    }
}

/// Public on-demand prices used by the cost model, us-east-1 (US East, N. Virginia).
///
/// Sources (all read 2026-11-25; the rates are the issue's, "as of 2026-11 per
/// the issue", cross-checked against stored copies of these pages):
/// - AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/ : duration tiers
///   per architecture applied to the account's aggregate monthly duration,
///   memory 128–10,240 MB in 1 MB steps, 512 MB of ephemeral storage included,
///   $0.20 per 1 M requests, 1 ms billing. The official page renders its rate
///   tables client-side, so the numeric tier rates were confirmed on a secondary
///   copy (cloudchipr.com "AWS Lambda Pricing Breakdown", us-east-1), which matches
///   the issue except for a dropped digit in the x86 third tier; the issue's
///   $0.0000133334 is used.
/// - AWS Step Functions pricing, https://aws.amazon.com/step-functions/pricing/ :
///   Standard $0.025 per 1,000 state transitions; Express $1.00 per 1 M requests
///   plus duration per GB-second, duration rounded up to 100 ms and memory billed
///   in 64 MB chunks. Only the first Express duration tier ($0.00001667 / GB-s) is
///   modelled: CAI's children use far less than its 1,000 GB-hour bound.
/// - Amazon S3 pricing, https://aws.amazon.com/s3/pricing/ , S3 Standard:
///   GET $0.0004 per 1,000; PUT/COPY/POST/LIST $0.005 per 1,000.
///
/// Free tiers (1 M requests, 400,000 GB-s, 4,000 transitions a month) are not
/// subtracted: a benchmark account rarely has them left, and the paper's formula
/// ignores them too.
///
/// Every field has a default, and decoding fills missing keys from the defaults,
/// so a settings file overrides only what it names.
public struct LambdaPrices: Codable, Equatable, Sendable {
    /// Region the defaults are for.
    public var region: String = "us-east-1"
    /// When the defaults were read from the pricing pages.
    public var readOn: String = "2026-11-25"
    /// x86_64 duration tiers: first 6 B GB-s/month, next 9 B, then the rest.
    public var x86DurationTiers: [PriceTier] = [
        PriceTier(upToGBSeconds: 6e9, pricePerGBSecond: 0.0000166667),
        PriceTier(upToGBSeconds: 15e9, pricePerGBSecond: 0.000015),
        PriceTier(upToGBSeconds: nil, pricePerGBSecond: 0.0000133334),
    ]
    /// arm64 duration tiers: first 7.5 B GB-s/month, next 11.25 B, then the rest.
    public var arm64DurationTiers: [PriceTier] = [
        PriceTier(upToGBSeconds: 7.5e9, pricePerGBSecond: 0.0000133334),
        PriceTier(upToGBSeconds: 18.75e9, pricePerGBSecond: 0.0000120001),
        PriceTier(upToGBSeconds: nil, pricePerGBSecond: 0.0000106667),
    ]
    /// Dollars per 1 M Lambda invocations.
    public var requestsPerMillion: Double = 0.20
    /// Dollars per GB-second of ephemeral storage configured above the included amount.
    public var ephemeralStoragePerGBSecond: Double = 0.0000000309
    /// Ephemeral storage included at no charge, MB.
    public var includedEphemeralStorageMB: Int = 512
    /// Lambda rounds each invocation's duration (init included) up to this many ms.
    public var billingGranularityMs: Int = 1
    /// Dollars per 1,000 Standard-workflow state transitions.
    public var stepFunctionsStandardPerThousandTransitions: Double = 0.025
    /// Dollars per 1 M Express-workflow executions.
    public var stepFunctionsExpressPerMillionRequests: Double = 1.00
    /// Dollars per GB-second of Express-workflow duration (first tier).
    public var stepFunctionsExpressPerGBSecond: Double = 0.00001667
    /// Express memory is billed in chunks of this many MB.
    public var stepFunctionsExpressMemoryChunkMB: Int = 64
    /// Express duration is rounded up to this many ms.
    public var stepFunctionsExpressDurationGranularityMs: Int = 100
    /// Dollars per 1,000 S3 Standard GET requests.
    public var s3GetPerThousand: Double = 0.0004
    /// Dollars per 1,000 S3 Standard PUT/COPY/POST requests.
    public var s3PutPerThousand: Double = 0.005
    /// Dollars per 1,000 S3 Standard LIST requests.
    public var s3ListPerThousand: Double = 0.005

    /// The defaults above.
    public static let usEast1 = LambdaPrices()

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case region, readOn, x86DurationTiers, arm64DurationTiers, requestsPerMillion
        case ephemeralStoragePerGBSecond, includedEphemeralStorageMB, billingGranularityMs
        case stepFunctionsStandardPerThousandTransitions, stepFunctionsExpressPerMillionRequests
        case stepFunctionsExpressPerGBSecond, stepFunctionsExpressMemoryChunkMB
        case stepFunctionsExpressDurationGranularityMs, s3GetPerThousand, s3PutPerThousand, s3ListPerThousand
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LambdaPrices()
        region = try c.decodeIfPresent(String.self, forKey: .region) ?? d.region
        readOn = try c.decodeIfPresent(String.self, forKey: .readOn) ?? d.readOn
        x86DurationTiers = try c.decodeIfPresent([PriceTier].self, forKey: .x86DurationTiers) ?? d.x86DurationTiers
        arm64DurationTiers = try c.decodeIfPresent([PriceTier].self, forKey: .arm64DurationTiers) ?? d.arm64DurationTiers
        requestsPerMillion = try c.decodeIfPresent(Double.self, forKey: .requestsPerMillion) ?? d.requestsPerMillion
        ephemeralStoragePerGBSecond = try c.decodeIfPresent(Double.self, forKey: .ephemeralStoragePerGBSecond)
            ?? d.ephemeralStoragePerGBSecond
        includedEphemeralStorageMB = try c.decodeIfPresent(Int.self, forKey: .includedEphemeralStorageMB)
            ?? d.includedEphemeralStorageMB
        billingGranularityMs = try c.decodeIfPresent(Int.self, forKey: .billingGranularityMs) ?? d.billingGranularityMs
        stepFunctionsStandardPerThousandTransitions = try c.decodeIfPresent(
            Double.self, forKey: .stepFunctionsStandardPerThousandTransitions)
            ?? d.stepFunctionsStandardPerThousandTransitions
        stepFunctionsExpressPerMillionRequests = try c.decodeIfPresent(
            Double.self, forKey: .stepFunctionsExpressPerMillionRequests) ?? d.stepFunctionsExpressPerMillionRequests
        stepFunctionsExpressPerGBSecond = try c.decodeIfPresent(Double.self, forKey: .stepFunctionsExpressPerGBSecond)
            ?? d.stepFunctionsExpressPerGBSecond
        stepFunctionsExpressMemoryChunkMB = try c.decodeIfPresent(Int.self, forKey: .stepFunctionsExpressMemoryChunkMB)
            ?? d.stepFunctionsExpressMemoryChunkMB
        stepFunctionsExpressDurationGranularityMs = try c.decodeIfPresent(
            Int.self, forKey: .stepFunctionsExpressDurationGranularityMs) ?? d.stepFunctionsExpressDurationGranularityMs
        s3GetPerThousand = try c.decodeIfPresent(Double.self, forKey: .s3GetPerThousand) ?? d.s3GetPerThousand
        s3PutPerThousand = try c.decodeIfPresent(Double.self, forKey: .s3PutPerThousand) ?? d.s3PutPerThousand
        s3ListPerThousand = try c.decodeIfPresent(Double.self, forKey: .s3ListPerThousand) ?? d.s3ListPerThousand
    }

    /// The duration tiers for an architecture.
    public func durationTiers(for architecture: Architecture) -> [PriceTier] {
        switch architecture {
        case .x86_64: return x86DurationTiers
        case .arm64: return arm64DurationTiers
        }
    }

    /// Rejects price tables that would give meaningless costs (negative rates,
    /// unordered tiers, a bounded last tier, non-positive granularities), naming the key.
    public func validate() throws {
        for (name, tiers) in [("x86DurationTiers", x86DurationTiers), ("arm64DurationTiers", arm64DurationTiers)] {
            try Self.validateTiers(tiers, name: name)
        }
        let rates: [(String, Double)] = [
            ("requestsPerMillion", requestsPerMillion),
            ("ephemeralStoragePerGBSecond", ephemeralStoragePerGBSecond),
            ("stepFunctionsStandardPerThousandTransitions", stepFunctionsStandardPerThousandTransitions),
            ("stepFunctionsExpressPerMillionRequests", stepFunctionsExpressPerMillionRequests),
            ("stepFunctionsExpressPerGBSecond", stepFunctionsExpressPerGBSecond),
            ("s3GetPerThousand", s3GetPerThousand),
            ("s3PutPerThousand", s3PutPerThousand),
            ("s3ListPerThousand", s3ListPerThousand),
        ]
        for (name, rate) in rates {
            try requireFinite(rate, "prices.\(name)")
        }
        let granules: [(String, Int)] = [
            ("billingGranularityMs", billingGranularityMs),
            ("stepFunctionsExpressMemoryChunkMB", stepFunctionsExpressMemoryChunkMB),
            ("stepFunctionsExpressDurationGranularityMs", stepFunctionsExpressDurationGranularityMs),
        ]
        for (name, value) in granules where value < 1 {
            throw LambdaCostError.invalidParameter(name: "prices.\(name)", value: "\(value)", reason: "must be at least 1")
        }
        if includedEphemeralStorageMB < 0 {
            throw LambdaCostError.invalidParameter(
                name: "prices.includedEphemeralStorageMB", value: "\(includedEphemeralStorageMB)",
                reason: "must not be negative")
        }
    }

    private static func validateTiers(_ tiers: [PriceTier], name: String) throws {
        guard let last = tiers.last else {
            throw LambdaCostError.invalidParameter(name: "prices.\(name)", value: "[]", reason: "needs at least one tier")
        }
        if let bound = last.upToGBSeconds {
            throw LambdaCostError.invalidParameter(
                name: "prices.\(name).last.upToGBSeconds", value: "\(bound)",
                reason: "the last tier must be unbounded (null)")
        }
        var previous = 0.0
        for (i, tier) in tiers.enumerated() {
            try requireFinite(tier.pricePerGBSecond, "prices.\(name)[\(i)].pricePerGBSecond")
            guard i < tiers.count - 1 else { break }
            guard let bound = tier.upToGBSeconds, bound.isFinite, bound > previous else {
                throw LambdaCostError.invalidParameter(
                    name: "prices.\(name)[\(i)].upToGBSeconds", value: "\(String(describing: tier.upToGBSeconds))",
                    reason: "inner tiers need finite bounds that increase")
            }
            previous = bound
        }
    }
}

/// Dollars for `gbSeconds` of Lambda duration billed on monthly volume tiers,
/// when the account has already used `priorMonthlyGBSeconds` this month on the
/// same architecture and region. Each GB-second is priced by the tier that the
/// month's running total is in when it is used, so a run that crosses a bound
/// pays both rates.
public func tieredDurationCost(
    gbSeconds: Double,
    priorMonthlyGBSeconds: Double = 0,
    tiers: [PriceTier]
) throws -> Double {
    try requireFinite(gbSeconds, "gbSeconds")
    try requireFinite(priorMonthlyGBSeconds, "priorMonthlyGBSeconds")
    let start = priorMonthlyGBSeconds
    let end = priorMonthlyGBSeconds + gbSeconds
    var lower = 0.0
    var cost = 0.0
    for tier in tiers {
        let upper = tier.upToGBSeconds ?? Double.infinity
        let inTier = min(end, upper) - max(start, lower)
        if inTier > 0 {
            cost += inTier * tier.pricePerGBSecond
        }
        lower = upper
    }
    return cost
}
