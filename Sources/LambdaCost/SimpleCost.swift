import Foundation

/// The x86_64 first-tier Lambda duration price the CAI paper and its users
/// multiplied by (us-east-1, $/GB-s; AWS Lambda pricing page, as of 2026-11 per
/// the issue, read 2026-11-25).
public let paperPricePerGBSecond = 0.0000166667

/// The cost formula of the CAI paper and its users:
/// requests x duration (s) x memory (GB) x $0.0000166667 per GB-s.
///
/// It is kept apart from `fleetCost` so their published figures can be
/// reproduced exactly: it bills neither requests, nor rounding, nor tiers,
/// nor Step Functions or S3. Give memory in GB; `parseMemory` reads a memory
/// string by `MemoryAmount`'s rule (bare = MB) and converts MB as the users
/// did (MB / 1,024). `pricePerGBSecond` exists to check
/// figures computed with a rounded rate (some users' four-decimal figures
/// match $0.00001667, not $0.0000166667).
public func simpleCost(
    requests: Int,
    durationSeconds: Double,
    memoryGB: Double,
    pricePerGBSecond: Double = paperPricePerGBSecond
) -> Double {
    Double(requests) * durationSeconds * memoryGB * pricePerGBSecond
}
