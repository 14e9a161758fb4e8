import Foundation

/// The REPORT line Lambda logs after every invocation — the service's own
/// measure of duration, billed duration and peak memory, which is what a
/// cost model must be checked against:
///
///     REPORT RequestId: ID\tDuration: 12.34 ms\tBilled Duration: 13 ms\t
///     Memory Size: 1769 MB\tMax Memory Used: 210 MB\tInit Duration: 301.2 ms
///
/// `Init Duration` only appears on a cold start. Fields may be separated by
/// tabs or spaces and may be followed by others (`XRAY TraceId: ...`,
/// `Status: timeout`); each field is `Label: value [unit]`.
public struct LambdaReportLine: Sendable, Equatable {
    public var requestID: String
    public var durationMs: Double
    public var billedDurationMs: Int
    public var memorySizeMB: Int
    public var maxMemoryUsedMB: Int
    /// Set on cold starts only.
    public var initDurationMs: Double?
    /// `timeout`, `error`... when Lambda says the invocation did not succeed.
    public var status: String?

    public init(requestID: String, durationMs: Double, billedDurationMs: Int, memorySizeMB: Int,
                maxMemoryUsedMB: Int, initDurationMs: Double? = nil, status: String? = nil) {
        self.requestID = requestID
        self.durationMs = durationMs
        self.billedDurationMs = billedDurationMs
        self.memorySizeMB = memorySizeMB
        self.maxMemoryUsedMB = maxMemoryUsedMB
        self.initDurationMs = initDurationMs
        self.status = status
    }

    public var isColdStart: Bool { initDurationMs != nil }

    /// A REPORT line that cannot be read, with the field at fault.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var line: String
        public var description: String { "malformed Lambda REPORT line (\(reason)): \(line.prefix(300))" }
    }

    /// Nil for any line that is not a REPORT line (START, END, the
    /// function's own output); a REPORT line with a missing, repeated or
    /// malformed field throws rather than yielding a wrong number.
    public static func parse(_ line: String) throws -> LambdaReportLine? {
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard tokens.first == "REPORT", tokens.count > 1, tokens[1] == "RequestId:" else { return nil }
        func fail(_ reason: String) -> ParseError { ParseError(reason: reason, line: line) }

        // Label words up to a token ending in ':', one value token, an optional unit.
        var fields: [String: (value: Substring, unit: Substring?)] = [:]
        var index = 1
        while index < tokens.count {
            var label: [Substring] = []
            while index < tokens.count, !tokens[index].hasSuffix(":") {
                label.append(tokens[index])
                index += 1
            }
            guard index < tokens.count else { break }  // trailing words without a label: not a field
            label.append(tokens[index].dropLast())
            index += 1
            let name = label.joined(separator: " ")
            guard index < tokens.count, !tokens[index].hasSuffix(":") else { throw fail("no value for '\(name)'") }
            let value = tokens[index]
            index += 1
            var unit: Substring?
            if index < tokens.count, tokens[index] == "ms" || tokens[index] == "MB" {
                unit = tokens[index]
                index += 1
            }
            guard fields.updateValue((value, unit), forKey: name) == nil else { throw fail("'\(name)' repeated") }
        }

        func number(_ name: String, unit: String, required: Bool = true) throws -> Double? {
            guard let field = fields[name] else {
                if required { throw fail("no '\(name)'") }
                return nil
            }
            guard field.unit.map({ String($0) }) == unit else { throw fail("'\(name)' is not in \(unit)") }
            guard let value = decimal(field.value) else { throw fail("'\(name)' value '\(field.value)' is not a number") }
            return value
        }
        func integer(_ name: String, unit: String) throws -> Int {
            let value = try number(name, unit: unit)!
            guard value == value.rounded(), value <= Double(Int32.max) else {
                throw fail("'\(name)' value \(value) is not a whole number")
            }
            return Int(value)
        }
        guard let requestID = fields["RequestId"]?.value, fields["RequestId"]?.unit == nil else {
            throw fail("no request id")
        }
        return LambdaReportLine(
            requestID: String(requestID),
            durationMs: try number("Duration", unit: "ms")!,
            billedDurationMs: try integer("Billed Duration", unit: "ms"),
            memorySizeMB: try integer("Memory Size", unit: "MB"),
            maxMemoryUsedMB: try integer("Max Memory Used", unit: "MB"),
            initDurationMs: try number("Init Duration", unit: "ms", required: false),
            status: fields["Status"].map { String($0.value) }
        )
    }

    /// The line parsed, or nil when it is not a REPORT line or is malformed.
    public init?(_ line: String) {
        guard let parsed = try? Self.parse(line) else { return nil }
        self = parsed
    }

    /// Plain decimal only (`12`, `12.34`): no sign, exponent, hex, `nan`
    /// or `inf`, which `Double(_:)` would accept.
    static func decimal(_ text: Substring) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !text.isEmpty, text.count <= 20, parts.count <= 2,
              parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } })
        else { return nil }
        return Double(text)
    }
}
