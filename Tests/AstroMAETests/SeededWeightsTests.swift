import AstroMAE
import Foundation
import XCTest

final class SeededWeightsTests: XCTestCase {
    struct Row {
        let name: String
        let shape: [Int]
        let rule: String
        let a: Double
        let b: Double
        let first3: [Double]
        let sum: Double
    }

    func rows() throws -> [Row] {
        let text = try String(contentsOf: TestPaths.tensorsTSV, encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("name\t") }.map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Row(name: f[0], shape: f[1].split(separator: "x").map { Int($0)! }, rule: f[2],
                       a: Double(f[3])!, b: Double(f[4])!, first3: f[5].split(separator: ",").map { Double($0)! },
                       sum: Double(f[6])!)
        }
    }

    func testManifestMatchesSpecTableInOrder() throws {
        let table = try rows()
        XCTAssertEqual(table.count, WeightManifest.all.count)
        for (row, spec) in zip(table, WeightManifest.all) {
            XCTAssertEqual(row.name, spec.name)
            XCTAssertEqual(row.shape, spec.shape, row.name)
            XCTAssertEqual(row.rule, spec.rule.kind.rawValue, row.name)
            XCTAssertEqual(row.a, spec.rule.a, row.name)
            XCTAssertEqual(row.b, spec.rule.b, accuracy: 1e-15, row.name)
        }
    }

    func testParameterCountIsTheSpecs() {
        XCTAssertEqual(WeightManifest.parameterCount, 15_902_889)
    }

    func testSeededValuesMatchSpecTable() throws {
        let weights = ModelWeights.seeded(20_250_108)
        for row in try rows() {
            let values = weights.tensor(row.name)
            XCTAssertEqual(values.count, row.shape.reduce(1, *), row.name)
            for (i, expected) in row.first3.enumerated() {
                XCTAssertEqual(values[values.startIndex + i], Float(expected), "\(row.name)[\(i)]")
            }
            let sum = values.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, row.sum, accuracy: max(abs(row.sum), 1) * 1e-6, "\(row.name) sum")
        }
    }

    func testDifferentSeedsGiveDifferentWeights() {
        let a = ModelWeights.seeded(1).tensor("head.weight")
        let b = ModelWeights.seeded(2).tensor("head.weight")
        XCTAssertNotEqual(Array(a), Array(b))
    }

    func testFNVAndSplitMixKnownValues() {
        XCTAssertEqual(SeededWeights.fnv1a64(""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(SeededWeights.fnv1a64("a"), 0xAF63_DC4C_8601_EC8C)
    }
}
