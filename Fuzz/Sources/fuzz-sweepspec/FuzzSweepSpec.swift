import Foundation
import SweepKit

/// With FUZZ_SKIP_KNOWN=1 the harness passes over inputs that hit the known,
/// reported toml++ assertion (Fuzz/Crashes/fuzz-sweepspec), so a long run can
/// look for other failures until SweepSpec rejects them itself. Off by
/// default: CI must fail while the crash is unfixed.
let skipKnownCrashes = ProcessInfo.processInfo.environment["FUZZ_SKIP_KNOWN"] == "1"

/// libFuzzer entry point: any byte string is a candidate TOML sweep spec.
/// Invalid UTF-8 is the file reader's concern (it fails before parsing), so
/// it is decoded leniently here. Rejection must be a thrown `SweepError`;
/// an accepted spec must expand to at least one configuration.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if skipKnownCrashes && hasPunctuationTableHeader(text) { return 0 }
    let spec: SweepSpec
    do {
        spec = try SweepSpec(toml: text, path: "fuzz.toml")
    } catch is SweepError {
        return 0
    } catch {
        preconditionFailure("SweepSpec threw a non-SweepError: \(error)")
    }
    precondition(!spec.configurations.isEmpty, "accepted a spec with no configurations")
    precondition(!spec.name.isEmpty && !spec.name.contains("/"), "accepted an unusable name \"\(spec.name)\"")
    return 0
}

/// A line `[`/`[[` + blanks + the line's end or a character that can not
/// start a key (toml++ asserts on it instead of reporting an error).
func hasPunctuationTableHeader(_ text: String) -> Bool {
    for line in text.split(whereSeparator: \.isNewline) {
        var rest = line.drop { $0 == " " || $0 == "\t" }
        guard rest.first == "[" else { continue }
        rest = rest.dropFirst()
        if rest.first == "[" { rest = rest.dropFirst() }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        guard let first = rest.first else { return true }
        let startsKey = first.isASCII && (first.isLetter || first.isNumber || first == "_" || first == "-")
        if !(startsKey || first == "\"" || first == "'" || first == "]") { return true }
    }
    return false
}
