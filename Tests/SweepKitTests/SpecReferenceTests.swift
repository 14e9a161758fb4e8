import Foundation
import LambdaCost
import SweepKit
import XCTest

/// docs/SWEEP-SPEC.md against the parser: every key `SweepSpec` accepts has a
/// row in its section's table, every row names a key the parser accepts, and
/// every example (the TOML blocks and each row's `key = value`) parses.
final class SpecReferenceTests: XCTestCase {
    /// The sections of the page that document keys, and the keys each must hold.
    enum Section: String, CaseIterable {
        case topLevel = "top level", grid = "[[grid]]", lambda = "[lambda]", prices = "[lambda.prices]"
        case tiers = "duration tiers"

        var keys: [String] {
            switch self {
            case .topLevel: return SweepSpec.topLevelKeys
            case .grid: return SweepSpec.gridKeys
            case .lambda: return SweepSpec.lambdaKeys
            case .prices: return SweepSpec.priceKeys
            case .tiers: return Self.tierKeys
            }
        }

        /// A tier's field names, as `LambdaPrices` encodes (and decodes) them.
        static let tierKeys: [String] = {
            let tier = PriceTier(upToGBSeconds: 1, pricePerGBSecond: 1)
            let object = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(tier))) as? [String: Any]
            return (object ?? [:]).keys.sorted()
        }()

        /// The section a Markdown heading opens, nil for headings that document no keys.
        init?(heading: String) {
            let text = heading.lowercased()
            if text.contains("duration tiers") {
                self = .tiers
            } else if text.contains("[lambda.prices]") {
                self = .prices
            } else if text.contains("[lambda]") {
                self = .lambda
            } else if text.contains("[[grid]]") {
                self = .grid
            } else if text.contains("top-level keys") {
                self = .topLevel
            } else {
                return nil
            }
        }
    }

    struct Row {
        var key: String
        var example: String
    }

    static let pageURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/SWEEP-SPEC.md")

    func page() throws -> String {
        try String(contentsOf: Self.pageURL, encoding: .utf8)
    }

    /// The table rows of each key section: the first cell is `` `key` ``, the last the example.
    func rows() throws -> [Section: [Row]] {
        var result: [Section: [Row]] = [:]
        var section: Section?
        var inCode = false
        for line in try page().split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inCode.toggle() }
            if inCode { continue }
            if line.hasPrefix("#") {
                section = Section(heading: line)
                continue
            }
            guard let section, line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let key = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            result[section, default: []].append(Row(key: key, example: cells[cells.count - 2]))
        }
        return result
    }

    /// The ```toml blocks of the page.
    func tomlBlocks() throws -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in try page().split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```toml" {
                current = []
            } else if current != nil, line.hasPrefix("```") {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    func testEveryParserKeyIsDocumented() throws {
        let rows = try rows()
        XCTAssertFalse(SweepSpec.priceKeys.isEmpty)
        XCTAssertEqual(Section.tierKeys, ["pricePerGBSecond", "upToGBSeconds"])
        for section in Section.allCases {
            let documented = (rows[section] ?? []).map(\.key)
            for key in section.keys where !documented.contains(key) {
                XCTFail("\(section.rawValue) key \"\(key)\" is accepted by SweepSpec but has no row in "
                    + "docs/SWEEP-SPEC.md")
            }
            for key in documented where !section.keys.contains(key) {
                XCTFail("docs/SWEEP-SPEC.md documents \(section.rawValue) key \"\(key)\", which SweepSpec "
                    + "does not accept")
            }
            XCTAssertEqual(documented.count, Set(documented).count, "a \(section.rawValue) key is documented twice")
        }
    }

    func testEveryTOMLExampleParses() throws {
        let blocks = try tomlBlocks()
        XCTAssertGreaterThanOrEqual(blocks.count, 2)
        let directory = try makeTemporaryDirectory(self)
        for (i, block) in blocks.enumerated() {
            let url = directory.appendingPathComponent("example-\(i + 1).toml")
            try block.write(to: url, atomically: true, encoding: .utf8)
            do {
                let spec = try SweepSpec(contentsOf: url)
                XCTAssertFalse(spec.configurations.isEmpty)
            } catch {
                XCTFail("TOML block \(i + 1) of docs/SWEEP-SPEC.md does not parse: \(error)\n\(block)")
            }
        }
    }

    /// The complete spec sets what it says it sets (a guard against an example that parses by accident).
    func testCompleteExampleMeansWhatItSays() throws {
        let spec = try SweepSpec(toml: try XCTUnwrap(tomlBlocks().first), path: "SWEEP-SPEC.md")
        XCTAssertEqual(spec.name, "example")
        XCTAssertEqual(spec.grids.count, 2)
        XCTAssertEqual(spec.grids[0].threads, [1, 2])
        XCTAssertEqual(spec.grids[1].fileLimits, [4])
        XCTAssertEqual(spec.grids[1].dataSizes, [])
        XCTAssertEqual(spec.lambda.memory, [.auto, .fixed(megabytes: 1769), .fixed(megabytes: 3008)])
        XCTAssertEqual(spec.lambda.prices.x86DurationTiers.count, 2)
        XCTAssertEqual(spec.lambda.prices.x86DurationTiers.last?.upToGBSeconds, nil)
        XCTAssertEqual(spec.configurations.first?.id, "25MB-b512-1GB-t1")
    }

    /// Each row's example (`` `key = value` ``) parses when put into a minimal spec in its section.
    func testEveryRowExampleParses() throws {
        let base = ["partitions": "partitions = [\"25MB\"]", "batch_sizes": "batch_sizes = [128]",
                    "data_sizes": "data_sizes = [\"1GB\"]"]
        var checked = 0
        for (section, rows) in try rows() {
            for row in rows {
                guard row.example.hasPrefix("`\(row.key) ="), row.example.hasSuffix("`") else { continue }
                let line = String(row.example.dropFirst().dropLast())
                var top = base
                var tables = ""
                switch section {
                case .topLevel:
                    top[row.key] = line
                    if row.key == "file_limits" { top["data_sizes"] = nil }
                case .grid: tables = "[[grid]]\n\(line)\n"
                case .lambda: tables = "[lambda]\n\(line)\n"
                case .prices: tables = "[lambda.prices]\n\(line)\n"
                case .tiers: continue
                }
                let text = top.keys.sorted().map { top[$0]! }.joined(separator: "\n") + "\n" + tables
                do {
                    _ = try SweepSpec(toml: text, path: "SWEEP-SPEC.md", defaultName: "row")
                    checked += 1
                } catch {
                    XCTFail("the example of \(section.rawValue) key \"\(row.key)\" does not parse: \(error)\n\(text)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }
}
