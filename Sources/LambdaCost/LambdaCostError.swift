import Foundation

/// Why a cost-model input was rejected. Every message names the parameter
/// (or the text being parsed) and the offending value, so a sweep that reads
/// its settings from a file can point at the bad key.
public enum LambdaCostError: Error, CustomStringConvertible, Equatable {
    /// Lambda memory outside 128...10,240 MB.
    case memoryOutOfRange(parameter: String, megabytes: Int)
    /// Ephemeral storage outside 512...10,240 MB.
    case ephemeralStorageOutOfRange(parameter: String, megabytes: Int)
    /// A memory string such as "2.8GB" that could not be read or is out of range.
    case invalidMemoryString(text: String, reason: String)
    /// Any other numeric parameter with an impossible value.
    case invalidParameter(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .memoryOutOfRange(parameter, megabytes):
            return "LambdaCost: \(parameter) = \(megabytes) MB is outside Lambda's memory range "
                + "\(LambdaLimits.minMemoryMB)...\(LambdaLimits.maxMemoryMB) MB"
        case let .ephemeralStorageOutOfRange(parameter, megabytes):
            return "LambdaCost: \(parameter) = \(megabytes) MB is outside Lambda's ephemeral storage range "
                + "\(LambdaLimits.minEphemeralStorageMB)...\(LambdaLimits.maxEphemeralStorageMB) MB"
        case let .invalidMemoryString(text, reason):
            return "LambdaCost: memory \"\(text)\" is not valid: \(reason) "
                + "(a bare number is MB; e.g. \"1769\", \"1782.9MB\", \"2.8GB\" with GB = 1,024 MB)"
        case let .invalidParameter(name, value, reason):
            return "LambdaCost: \(name) = \(value) is not valid: \(reason)"
        }
    }
}

/// Throws `invalidParameter` unless `value` is finite and at least `minimum`.
func requireFinite(_ value: Double, _ name: String, atLeast minimum: Double = 0) throws {
    guard value.isFinite else {
        throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must be a finite number")
    }
    guard value >= minimum else {
        throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must be at least \(minimum)")
    }
}

/// Throws `invalidParameter` unless `value` is finite and strictly positive.
func requirePositive(_ value: Double, _ name: String) throws {
    guard value.isFinite, value > 0 else {
        throw LambdaCostError.invalidParameter(name: name, value: "\(value)", reason: "must be a finite number above 0")
    }
}
