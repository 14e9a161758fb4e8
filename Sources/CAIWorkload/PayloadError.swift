import Foundation

/// Why a CAI payload was rejected. Every message names the payload file and,
/// where one is involved, the key and the offending value. A payload with
/// several problems is rejected once with all of them (`several`), so a user
/// fixes the file in one pass.
public indirect enum PayloadError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case notAnObject(path: String, found: String)
    case unknownKey(path: String, key: String, suggestion: String?)
    case missingKey(path: String, key: String)
    case wrongType(path: String, key: String, expected: String, value: String)
    case outOfRange(path: String, key: String, value: String, requirement: String)
    /// A bucket or prefix that breaks `StorageLocation`'s rules.
    case invalidLocation(path: String, key: String, value: String, reason: String)
    /// Two or more of the above, in the order they were found.
    case several(path: String, problems: [PayloadError])

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read payload \(path): \(reason)"
        case let .invalidJSON(path, reason):
            return "payload \(path) is not valid JSON: \(reason)"
        case let .notAnObject(path, found):
            return "payload \(path) must be a JSON object, found \(found)"
        case let .several(path, problems):
            return "payload \(path) has \(problems.count) problems:\n" + problems.map { "  - " + $0.problem }.joined(separator: "\n")
        default:
            return "payload \(path): \(problem)"
        }
    }

    /// The payload file the error is about.
    public var path: String {
        switch self {
        case let .unreadable(path, _), let .invalidJSON(path, _), let .notAnObject(path, _),
             let .unknownKey(path, _, _), let .missingKey(path, _), let .wrongType(path, _, _, _),
             let .outOfRange(path, _, _, _), let .invalidLocation(path, _, _, _), let .several(path, _):
            return path
        }
    }

    /// The individual problems (one, unless `several`).
    public var problems: [PayloadError] {
        if case let .several(_, problems) = self { return problems }
        return [self]
    }

    /// The message without the payload path, for one line of a list.
    public var problem: String {
        switch self {
        case let .unknownKey(_, key, suggestion):
            let known = Payload.knownKeys.joined(separator: ", ")
            if let suggestion {
                return "unknown key \"\(key)\"; did you mean \"\(suggestion)\"? (known keys: \(known))"
            }
            return "unknown key \"\(key)\" (known keys: \(known))"
        case let .missingKey(_, key):
            return "missing required key \"\(key)\""
        case let .wrongType(_, key, expected, value):
            return "key \"\(key)\" must be \(expected), got \(value)"
        case let .outOfRange(_, key, value, requirement):
            return "key \"\(key)\" is \(value) but must be \(requirement)"
        case let .invalidLocation(_, key, value, reason):
            return "key \"\(key)\" = \"\(Self.visible(value))\" is not allowed: \(reason)"
        case .unreadable, .invalidJSON, .notAnObject, .several:
            return description
        }
    }

    /// Combines the problems found in one payload: nil for none, the problem
    /// itself for one, `several` for more.
    static func combine(_ problems: [PayloadError], path: String) -> PayloadError? {
        switch problems.count {
        case 0: return nil
        case 1: return problems[0]
        default: return .several(path: path, problems: problems)
        }
    }

    /// `value` with control characters escaped, so a NUL or newline in a
    /// rejected name is shown rather than printed.
    static func visible(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                text += String(format: "\\u{%X}", scalar.value)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
