import Foundation

/// A check of spec text before toml++ (inside TOMLKit) sees it.
///
/// toml++ guards some of its parser states with `assert()`, which aborts the
/// whole process (release builds included) on inputs the fuzzer found: a
/// table header that does not start with a key (`[,]`, `[\nx]`), and a `}`
/// where an array element should start (`[1,}]`). A spec file is untrusted
/// input, so those shapes are refused here with an ordinary error. Sweep
/// specs need neither inline tables nor multi-line strings, so both are
/// refused too, which removes the states the crashes came from. Nor do they
/// need dates or times: toml++ also asserts on a time cut short at the end
/// of the text (`x = 6335-05-13Tr07:`), so bare `:` and digit-`-`-digit are
/// refused, and `SweepSpec` hands toml++ the text with a final newline.
enum TOMLPrecheck {
    static func validate(_ text: String, path: String) throws {
        var arrayDepth = 0
        // The last character outside strings and comments, across lines: a
        // value must follow "[", "," and "=" (toml++ asserts that it does).
        var last: Unicode.Scalar = "\n"
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let scalars = Array(line.unicodeScalars)
            func fail(_ column: Int, _ reason: String) -> SweepError {
                .invalidTOML(path: path, line: lineNumber, column: column + 1, reason: reason)
            }
            var index = 0
            // A byte-order mark may open the text (toml++ skips it too).
            if offset == 0, scalars.first == "\u{FEFF}" { index = 1 }
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
            if arrayDepth == 0, index < scalars.count, scalars[index] == "[" {
                try checkHeader(scalars, from: index, fail: fail)
                last = "]"
                continue
            }
            var quote: Unicode.Scalar?
            func needsValue() -> Bool { last == "," || last == "=" || (last == "[" && arrayDepth > 0) }
            while index < scalars.count {
                let c = scalars[index]
                if let open = quote {
                    if open == "\"" && c == "\\" {
                        index += 2
                        continue
                    }
                    if c == open { quote = nil }
                    index += 1
                    continue
                }
                switch c {
                case "#":
                    index = scalars.count
                    continue
                case "\"", "'":
                    if index + 2 < scalars.count, scalars[index + 1] == c, scalars[index + 2] == c {
                        throw fail(index, "multi-line strings are not used in sweep specs")
                    }
                    quote = c
                    last = c
                    index += 1
                    continue
                case "{", "}":
                    throw fail(index, "inline tables ({ ... }) are not used in sweep specs")
                case "[":
                    arrayDepth += 1
                case "]":
                    if last == "=" { throw fail(index, "a value must follow \"=\"") }
                    arrayDepth = max(0, arrayDepth - 1)
                case ",":
                    if needsValue() { throw fail(index, "a value must come before \",\"") }
                case ":":
                    throw fail(index, "dates and times are not sweep-spec values (quote text)")
                case "-" where index > 0 && index + 1 < scalars.count && isDigit(scalars[index - 1]) && isDigit(scalars[index + 1]):
                    throw fail(index, "dates and times are not sweep-spec values (quote text)")
                default:
                    break
                }
                if c != " " && c != "\t" && c != "\r" { last = c }
                index += 1
            }
            if quote != nil { throw fail(scalars.count, "a string is not closed on its line") }
            if last == "=" { throw fail(scalars.count, "a value must follow \"=\" on its line") }
        }
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    /// `[name]` or `[[name]]` on one line: the name starts with a bare-key
    /// character or a quote, and the brackets close.
    private static func checkHeader(_ scalars: [Unicode.Scalar], from start: Int,
                                    fail: (Int, String) -> SweepError) throws {
        var index = start + 1
        var brackets = 1
        if index < scalars.count, scalars[index] == "[" {
            brackets = 2
            index += 1
        }
        while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        guard index < scalars.count else { throw fail(index, "a table header must name a table on its line") }
        let first = scalars[index]
        let bare = ("a"..."z").contains(first) || ("A"..."Z").contains(first)
            || ("0"..."9").contains(first) || first == "_" || first == "-"
        guard bare || first == "\"" || first == "'" else {
            throw fail(index, "a table header must start with a key, found \"\(first)\"")
        }
        let rest = String(String.UnicodeScalarView(scalars[index...]))
        let body = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingCharacters(in: .whitespaces)
        let close = String(repeating: "]", count: brackets)
        guard body.hasSuffix(close), !body.dropLast(brackets).contains("]") || first == "\"" || first == "'" else {
            throw fail(index, "a table header must end with \"\(close)\" on its line")
        }
        if body.dropLast(brackets).contains("[") {
            throw fail(index, "a table header must not contain \"[\"")
        }
    }
}
