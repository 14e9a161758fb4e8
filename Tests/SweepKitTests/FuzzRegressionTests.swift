import Foundation
import SweepKit
import XCTest

/// Every input the sweep spec fuzzer (Fuzz/Sources/fuzz-sweepspec) crashed on,
/// committed under Fuzz/Crashes/fuzz-sweepspec: each must now be rejected
/// with a `SweepError` that names the file, not abort the process.
final class FuzzRegressionTests: XCTestCase {
    static let crashes = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Crashes/fuzz-sweepspec", isDirectory: true)

    func testEveryCommittedCrashIsACleanError() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.crashes, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertFalse(files.isEmpty, "no crash inputs under \(Self.crashes.path)")
        for file in files {
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            XCTAssertThrowsError(try SweepSpec(toml: text, path: file.lastPathComponent), file.lastPathComponent) { error in
                XCTAssertTrue(error is SweepError, "\(file.lastPathComponent): \(type(of: error)) is not a SweepError")
                XCTAssertTrue("\(error)".contains(file.lastPathComponent), "error does not name the file: \(error)")
            }
        }
    }

    /// The minimal forms of the crashes: a table header whose first key
    /// character is neither a bare-key character nor a quote (or is the end
    /// of the line) trips an assertion inside toml++ (SIGABRT in release
    /// builds too).
    func testTableHeaderStartingWithPunctuationIsRejected() {
        for header in ["[,]", "[[,]]", "[ .]", "[=]", "[#]", "[{]", "[}]", "[!]", "[[[a]]]", "[", "[[ ", "[\nx]"] {
            XCTAssertThrowsError(try SweepSpec(toml: "name = \"x\"\n\(header)\n", path: "header.toml"), header) { error in
                XCTAssertTrue(error is SweepError, "\(header): \(error)")
            }
        }
    }

    /// The second assertion the fuzzer found in toml++: a `}` where an array
    /// element should start.
    func testArrayHoldingACloseBraceIsRejected() {
        for value in ["[}]", "[1,}]", "[ 1, 2, } ]"] {
            XCTAssertThrowsError(try SweepSpec(toml: "threads = \(value)\n", path: "array.toml"), value) { error in
                XCTAssertTrue(error is SweepError, "\(value): \(error)")
            }
        }
    }

    /// Siblings of the crashes: a missing value where toml++ expects one.
    func testMissingValuesAreRejected() {
        for text in ["threads = [,]\n", "threads = [1,,2]\n", "repetitions =\n", "repetitions = # none\n",
                     "name = \"\"\"x\"\"\"\n", "name = {a = 1}\n", "name = \"open\n"] {
            XCTAssertThrowsError(try SweepSpec(toml: text, path: "value.toml"), text) { error in
                XCTAssertTrue(error is SweepError, "\(text): \(error)")
            }
        }
    }

    /// A byte-order mark before a bad table header hid it from the check (found by the fuzzer).
    func testByteOrderMarkDoesNotHideABadHeader() {
        XCTAssertThrowsError(try SweepSpec(toml: "\u{FEFF}[[[", path: "bom.toml")) { error in
            XCTAssertTrue("\(error)".contains("table header"), "\(error)")
        }
        XCTAssertNoThrow(try SweepSpec(toml: "\u{FEFF}partitions = [\"25MB\"]\nbatch_sizes = [64]\nfile_limits = [1]\n",
                                       path: "bom-ok.toml"))
    }

    /// toml++ asserted on a time cut short at the end of the text (found by
    /// the fuzzer); dates and times are refused, a final newline is added.
    func testDatesAndTimesAreRejected() {
        for text in ["partitions = 6335-05-13Trepetitions07:", "partitions = 6335-05-13T07:", "x = 1979-05-27",
                     "x = 07:32:00", "x = [1979-05-27T07:32:00Z]\n"] {
            XCTAssertThrowsError(try SweepSpec(toml: text, path: "time.toml"), text) { error in
                XCTAssertTrue("\(error)".contains("dates and times"), "\(text): \(error)")
            }
        }
        XCTAssertNoThrow(try SweepSpec(toml: "partitions = [\"25MB\"]\nbatch_sizes = [64]\nfile_limits = [1]\n[lambda]\nheadroom = 1.5e-1",
                                       path: "ok.toml"), "an exponent's minus is not a date")
    }

    /// What a real spec uses still parses: arrays over several lines,
    /// trailing commas, comments, quoted strings holding brackets.
    func testOrdinarySpecsStillParse() throws {
        let spec = try SweepSpec(toml: """
            name = "ok" # a comment [x]
            partitions = [
              "25MB", # first
              "100MB",
            ]
            batch_sizes = [128]
            file_limits = [2]
            [lambda]
            memory = ["auto", 1769]

            [[grid]]
            batch_sizes = [64]
            """, path: "ok.toml")
        XCTAssertEqual(spec.name, "ok")
        XCTAssertEqual(spec.configurations.count, 2)
    }
}
