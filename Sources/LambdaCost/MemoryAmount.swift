import Foundation

/// A memory size read by the one unit rule every command and spec uses, so
/// `cost --memory 1769` and `sweep --memory 1769` mean the same 1,769 MB:
///
/// - a bare number is MB: "1769", "1782.9";
/// - an explicit unit, case-insensitive, may follow after a space: "1769MB",
///   "1.73GB", "2.8 gb";
/// - GB = 1,024 MB, as Lambda bills (its "MB" are MiB; see `LambdaLimits`);
/// - only plain decimals (no signs, exponents, "inf", "nan"), above zero;
/// - with `requireLambdaBounds`, the size must lie in Lambda's
///   128...10,240 MB. Fractions of a MB are kept, since a formula input such
///   as a measured 1782.9 MB is no setting; `MemorySetting` additionally
///   requires whole MB, because Lambda is configured in 1 MB steps.
public struct MemoryAmount: Equatable, Sendable, CustomStringConvertible {
    /// MB per GB (binary, as Lambda converts memory for billing).
    public static let megabytesPerGB = 1_024.0

    public let megabytes: Double

    public init(megabytes: Double) {
        self.megabytes = megabytes
    }

    /// Reads `text` by the unit rule; errors name the text and what is wrong.
    public init(parsing text: String, requireLambdaBounds: Bool) throws {
        megabytes = try Self.parse(text, requireLambdaBounds: requireLambdaBounds)
    }

    /// MB of `text` by the unit rule (bare = MB, "MB", "GB" = 1,024 MB).
    public static func parse(_ text: String, requireLambdaBounds: Bool) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lower = trimmed.lowercased()
        var number = trimmed
        var factor = 1.0
        if lower.hasSuffix("gb") {
            number = String(trimmed.dropLast(2))
            factor = megabytesPerGB
        } else if lower.hasSuffix("mb") {
            number = String(trimmed.dropLast(2))
        } else if let last = lower.last, last.isLetter {
            throw LambdaCostError.invalidMemoryString(text: text, reason: "unknown unit (use MB or GB)")
        }
        number = number.trimmingCharacters(in: .whitespaces)
        guard !number.isEmpty else {
            throw LambdaCostError.invalidMemoryString(text: text, reason: "no number")
        }
        let isPlainDecimal = number.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && number.filter({ $0 == "." }).count <= 1
            && number.contains(where: { $0.isNumber })
        guard isPlainDecimal, let value = Double(number) else {
            throw LambdaCostError.invalidMemoryString(text: text, reason: "\"\(number)\" is not a plain decimal number")
        }
        guard value > 0 else {
            throw LambdaCostError.invalidMemoryString(text: text, reason: "size must be above zero")
        }
        let megabytes = value * factor
        if requireLambdaBounds {
            let shown = factor == 1 ? "\(format(megabytes)) MB" : "\(trimmed) = \(format(megabytes)) MB"
            if megabytes < Double(LambdaLimits.minMemoryMB) {
                throw LambdaCostError.invalidMemoryString(
                    text: text, reason: "\(shown) is below Lambda's minimum of \(LambdaLimits.minMemoryMB) MB")
            }
            if megabytes > Double(LambdaLimits.maxMemoryMB) {
                throw LambdaCostError.invalidMemoryString(
                    text: text, reason: "\(shown) is above Lambda's maximum of \(LambdaLimits.maxMemoryMB) MB")
            }
        }
        return megabytes
    }

    public var gigabytes: Double { megabytes / Self.megabytesPerGB }

    /// The size as a whole number of MB, nil when it has a fraction.
    public var wholeMegabytes: Int? {
        guard megabytes.rounded() == megabytes, megabytes < Double(Int.max) else { return nil }
        return Int(megabytes)
    }

    /// "1769 MB", "1782.9 MB".
    public var description: String { "\(Self.format(megabytes)) MB" }

    private static func format(_ megabytes: Double) -> String {
        megabytes.rounded() == megabytes && abs(megabytes) < 1e15 ? String(Int(megabytes)) : String(megabytes)
    }
}

/// GB of a memory string by `MemoryAmount`'s unit rule (bare = MB, "GB" =
/// 1,024 MB) within Lambda's 128...10,240 MB, for `simpleCost`'s `memoryGB`:
/// "1782.9MB" = 1782.9 / 1,024 GB, as the paper's users converted.
public func parseMemory(_ text: String) throws -> Double {
    try MemoryAmount(parsing: text, requireLambdaBounds: true).gigabytes
}
