import Crypto
import Foundation

/// Step Functions execution names derived from what they measure, so a
/// resumed sweep finds the executions it already started (names are unique
/// per state machine) instead of starting them twice.
public enum ExecutionName {
    /// Step Functions' limit on an execution name.
    public static let maximumLength = 80

    /// `{sweep}-{configuration}-{memory}mb-{label}-a{attempt}`, with every
    /// character outside `[A-Za-z0-9_-]` replaced by `_`; a name over 80
    /// characters keeps its end and gets a hash of the whole in front.
    public static func make(sweep: String, configuration: String, memoryMB: Int, label: String, attempt: Int) -> String {
        let full = "\(sweep)-\(configuration)-\(memoryMB)mb-\(label)-a\(attempt)"
        let clean = String(full.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        guard clean.count > maximumLength else { return clean }
        let digest = SHA256.hash(data: Data(full.utf8)).prefix(5).map { String(format: "%02x", $0) }.joined()
        return digest + "-" + String(clean.suffix(maximumLength - digest.count - 1))
    }

    /// The attempt number at the end of a name made by `make`, nil for another name.
    public static func attempt(of name: String) -> Int? {
        guard let range = name.range(of: "-a", options: .backwards) else { return nil }
        return Int(name[range.upperBound...])
    }
}
