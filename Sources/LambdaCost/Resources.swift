import Foundation

/// Lambda's configuration limits. Memory 128–10,240 MB and ephemeral storage
/// 512–10,240 MB are as on the AWS Lambda pricing page (read 2026-11-25); one
/// vCPU per 1,769 MB, at most 6, and the 900 s timeout are from the AWS Lambda
/// developer guide ("Configuring memory", "Lambda quotas") as stated in the
/// issue. Lambda "MB" are binary (MiB): prices convert memory to GB as MB / 1,024.
public enum LambdaLimits {
    /// Smallest configurable memory, MB.
    public static let minMemoryMB = 128
    /// Largest configurable memory, MB.
    public static let maxMemoryMB = 10_240
    /// Memory at which a function gets the equivalent of one full vCPU.
    public static let megabytesPerVCPU = 1_769.0
    /// Most vCPUs a function can get.
    public static let maxVCPU = 6.0
    /// Smallest (and included) ephemeral /tmp storage, MB.
    public static let minEphemeralStorageMB = 512
    /// Largest ephemeral /tmp storage, MB.
    public static let maxEphemeralStorageMB = 10_240
    /// Longest a single invocation may run.
    public static let timeoutSeconds = 900.0
    /// Bytes in one Lambda MB.
    public static let bytesPerMB = 1_048_576.0
}

/// Returns `megabytes` if Lambda accepts it as a memory size (128...10,240 MB),
/// otherwise throws an error naming `parameter` and the value.
@discardableResult
public func validateMemoryMB(_ megabytes: Int, parameter: String = "memoryMB") throws -> Int {
    guard (LambdaLimits.minMemoryMB...LambdaLimits.maxMemoryMB).contains(megabytes) else {
        throw LambdaCostError.memoryOutOfRange(parameter: parameter, megabytes: megabytes)
    }
    return megabytes
}

/// Returns `megabytes` if Lambda accepts it as ephemeral storage (512...10,240 MB).
@discardableResult
public func validateEphemeralStorageMB(_ megabytes: Int, parameter: String = "ephemeralStorageMB") throws -> Int {
    guard (LambdaLimits.minEphemeralStorageMB...LambdaLimits.maxEphemeralStorageMB).contains(megabytes) else {
        throw LambdaCostError.ephemeralStorageOutOfRange(parameter: parameter, megabytes: megabytes)
    }
    return megabytes
}

/// The CPU share Lambda gives a function: memory / 1,769 MB vCPUs, at most 6.
/// Below 1,769 MB the share is a fraction of one core (the function is
/// throttled), which is why small memory sizes slow single-threaded work too.
/// The mapping is not validated against the memory range so it can be
/// explored with other constants.
public func vcpuShare(
    memoryMB: Double,
    megabytesPerVCPU: Double = LambdaLimits.megabytesPerVCPU,
    maxVCPU: Double = LambdaLimits.maxVCPU
) -> Double {
    min(memoryMB / megabytesPerVCPU, maxVCPU)
}

/// A memory size chosen from a measured peak resident set.
public struct MemoryChoice: Codable, Equatable, Sendable {
    /// The memory to configure, MB, inside Lambda's range.
    public var memoryMB: Int
    /// Peak plus headroom rounded up to a whole MB, before clamping to the range.
    public var requiredMB: Int
    /// The measured peak RSS, MB.
    public var peakRSSMB: Double
    /// The headroom added, MB.
    public var headroomMB: Double

    /// True when the range forced `memoryMB` away from `requiredMB`.
    public var wasClamped: Bool { memoryMB != requiredMB }
    /// False when even the largest Lambda is smaller than peak plus headroom.
    public var fits: Bool { requiredMB <= LambdaLimits.maxMemoryMB }
}

/// Lambda memory `auto`: the measured peak RSS plus headroom, so the function
/// neither runs out of memory nor pays for much it does not use.
///
/// headroom = max(peak x `headroomFraction`, `minimumHeadroomMB`); the sum is
/// rounded up to a whole MB (Lambda accepts 1 MB steps, and rounding up never
/// removes headroom; a sum within 1e-9 MB of a whole MB counts as it, so float
/// error cannot add a megabyte), then clamped to 128...10,240 MB.
/// 1 MB = 1,048,576 bytes.
public func autoMemory(
    peakRSSBytes: Int,
    headroomFraction: Double = 0.15,
    minimumHeadroomMB: Double = 64
) throws -> MemoryChoice {
    guard peakRSSBytes >= 0 else {
        throw LambdaCostError.invalidParameter(
            name: "peakRSSBytes", value: "\(peakRSSBytes)", reason: "must not be negative")
    }
    try requireFinite(headroomFraction, "headroomFraction")
    try requireFinite(minimumHeadroomMB, "minimumHeadroomMB")
    let peakMB = Double(peakRSSBytes) / LambdaLimits.bytesPerMB
    let headroomMB = max(peakMB * headroomFraction, minimumHeadroomMB)
    let required = Int((peakMB + headroomMB - 1e-9).rounded(.up))
    let chosen = min(max(required, LambdaLimits.minMemoryMB), LambdaLimits.maxMemoryMB)
    return MemoryChoice(memoryMB: chosen, requiredMB: required, peakRSSMB: peakMB, headroomMB: headroomMB)
}

/// How a sweep sets Lambda memory: a fixed size, or `auto` (from peak RSS).
/// Encodes as the string "auto" or a number of MB; decodes either, and also
/// a string of digits such as "2048".
public enum MemorySetting: Codable, Equatable, Sendable, CustomStringConvertible {
    case fixed(megabytes: Int)
    case auto

    /// Reads "auto" (any case) or a size by `MemoryAmount`'s unit rule (bare
    /// = MB, "MB", "GB" = 1,024 MB) that is a whole number of MB inside
    /// Lambda's range: Lambda memory is configured in 1 MB steps.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "auto" {
            self = .auto
            return
        }
        let amount = try MemoryAmount(parsing: text, requireLambdaBounds: true)
        guard let mb = amount.wholeMegabytes else {
            throw LambdaCostError.invalidMemoryString(
                text: text, reason: "\(amount) is not a whole number of MB, which Lambda memory must be")
        }
        self = .fixed(megabytes: try validateMemoryMB(mb, parameter: "memory"))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let mb = try? c.decode(Int.self) {
            self = .fixed(megabytes: try validateMemoryMB(mb, parameter: "memory"))
        } else {
            self = try MemorySetting(parsing: c.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case let .fixed(mb): try c.encode(mb)
        }
    }

    /// The preset a spec names as `"power-tuning"`: sizes across Lambda's
    /// whole range (with 1,769 MB, one full vCPU), so the cost/duration
    /// curve over memory that Lambda users choose on can be drawn from one sweep.
    public static let powerTuning: [MemorySetting] = [
        128, 256, 512, 1_024, 1_536, 1_769, 2_048, 3_008, 4_096, 5_120, 6_144, 7_168, 8_192, 9_216, 10_240,
    ].map { .fixed(megabytes: $0) }

    /// The name a spec or `--memory` uses for `powerTuning`.
    public static let powerTuningName = "power-tuning"

    public var description: String {
        switch self {
        case .auto: return "auto"
        case let .fixed(mb): return "\(mb)"
        }
    }

    /// The memory to configure: the fixed size, or `autoMemory` of the peak
    /// (which `auto` requires).
    public func resolve(
        peakRSSBytes: Int?,
        headroomFraction: Double = 0.15,
        minimumHeadroomMB: Double = 64
    ) throws -> Int {
        switch self {
        case let .fixed(mb):
            return try validateMemoryMB(mb, parameter: "memory")
        case .auto:
            guard let peak = peakRSSBytes else {
                throw LambdaCostError.invalidParameter(
                    name: "peakRSSBytes", value: "nil", reason: "memory \"auto\" needs a measured peak RSS")
            }
            return try autoMemory(
                peakRSSBytes: peak, headroomFraction: headroomFraction, minimumHeadroomMB: minimumHeadroomMB
            ).memoryMB
        }
    }
}
