import CAIWorkload
import Foundation
import LambdaCost
import SweepKit
import XCTest

/// Lambda rows beside the model, and the calibration that fits the model to them.
final class LambdaComparisonTests: XCTestCase {
    let c = SweepConfiguration(partition: PartitionSize(rawValue: "25MB")!, batchSize: 32, amount: .fileLimit(2), threads: 1)

    private func record(rank: Int, repetition: Int, inference: Double, dataLoad: Double,
                        lambda: LambdaFigures? = nil, status: RankResult.Status = .ok) -> RankRecord {
        var r = RankRecord(configuration: c, repetition: repetition, rank: rank, file: "\(rank + 1).safetensors",
                           fileSamples: c.samplesInFile(rank + 1), remainderFile: false, status: status,
                           samples: status == .ok ? c.samplesInFile(rank + 1) : 0, numBatches: 40,
                           inferenceSeconds: inference, modelLoadSeconds: 0.2, dataLoadSeconds: dataLoad,
                           processSeconds: inference + 1, cpuSeconds: inference, peakRSSMB: 300, blasCore: "Fake",
                           blasThreads: 1, weights: "seeded", dataSource: "test", verification: "",
                           error: status == .ok ? "" : "crashed")
        if let lambda {
            r.source = .lambda
            r.lambda = lambda
        }
        return r
    }

    private func figures(billed: Int, initMs: Double?, execution: String, memory: Int = 1769) -> LambdaFigures {
        LambdaFigures(memoryMB: memory, durationMs: Double(billed) - 0.5, billedMs: billed, maxMemoryUsedMB: 320,
                      initMs: initMs, coldStart: initMs != nil, figures: .reportLog, requestID: "r", execution: execution,
                      executionSeconds: 9)
    }

    /// Local runs, and Lambda runs 25 % slower at inference with a 50 MB/s S3 read on top.
    private func records() -> [RankRecord] {
        var all: [RankRecord] = []
        let bytes = Double(c.samplesInFile(1) * SampleFormat.bytesPerSample)
        for repetition in 1...2 {
            for rank in 0..<2 {
                all.append(record(rank: rank, repetition: repetition, inference: 4, dataLoad: 0.1))
                let lambdaDataLoad = bytes / 50e6 + 0.1 / 0.8
                all.append(record(rank: rank, repetition: repetition, inference: 4 / 0.8, dataLoad: lambdaDataLoad,
                                  lambda: figures(billed: 6_000, initMs: rank == 0 ? 400 : nil, execution: "e\(repetition)-a1")))
            }
        }
        return all
    }

    func testLambdaRowsCarryTheModelsPredictionAndItsError() throws {
        let rows = try LambdaComparison.rows(records: records(), lambda: LambdaSettings())
        XCTAssertEqual(rows.count, 1)
        let row = rows[0]
        XCTAssertEqual(row.memoryMB, 1769)
        XCTAssertEqual(row.executions, 2)
        XCTAssertEqual(row.runs, 4)
        XCTAssertEqual(row.coldStarts, 2)
        XCTAssertEqual(row.initMedianS, 0.4)
        XCTAssertEqual(row.makespanMedianS, 9)
        XCTAssertEqual(row.rankBilledMeanS, 6)
        let modelled = try XCTUnwrap(row.modelledRankDurationMeanS)
        let measured = try XCTUnwrap(row.rankDurationMeanS)
        XCTAssertEqual(row.durationErrorPct ?? .nan, ((modelled - measured) / measured * 100 * 100).rounded() / 100,
                       accuracy: 1e-9)
        XCTAssertNotNil(row.costPerExecutionUSD)
        XCTAssertNotNil(row.costErrorPct)
        XCTAssertTrue(row.modelledBasis.contains("1 thread"), row.modelledBasis)

        let markdown = Report.render(rows: [], environment: nil, name: "t", lambda: rows).markdown
        XCTAssertTrue(markdown.contains("| 25MB-b32-files2-t1 | 1769 |"), markdown)
    }

    func testALambdaRowWithoutLocalRunsHasNoPrediction() throws {
        let rows = try LambdaComparison.rows(records: records().filter { $0.source == .lambda }, lambda: LambdaSettings())
        XCTAssertEqual(rows.first?.modelledBasis, "")
        XCTAssertNil(rows.first?.durationErrorPct)
        XCTAssertTrue(Report.render(rows: [], environment: nil, name: "t", lambda: rows).markdown.contains("no local run"))
    }

    func testCalibrationRecoversTheSpeedBandwidthAndColdStart() throws {
        let fit = try Calibration.fit(records: records(), lambda: LambdaSettings(), path: "ranks.csv")
        let values = Dictionary(uniqueKeysWithValues: fit.figures.map { ($0.key, $0.value) })
        XCTAssertEqual(values["cpu_speed_factor"] ?? nil, 0.8)
        XCTAssertEqual(values["s3_mb_per_second"] ?? nil, 50)
        XCTAssertEqual(values["cold_start_seconds"] ?? nil, 0.4)
        XCTAssertNil(fit.figures.first { $0.key == "parallel_efficiency" }?.value)
        let toml = fit.toml(source: "ranks.csv")
        XCTAssertTrue(toml.contains("[lambda]\ncpu_speed_factor = 0.8"), toml)
        XCTAssertTrue(toml.contains("# parallel_efficiency: not fitted"), toml)
        // The block is a valid [lambda] table of a spec.
        let spec = FileManager.default.temporaryDirectory.appendingPathComponent("calibrated-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: spec) }
        try ("name = \"c\"\npartitions = [\"25MB\"]\nbatch_sizes = [32]\nfile_limits = [2]\n" + toml)
            .write(to: spec, atomically: true, encoding: .utf8)
        let settings = try SweepSpec(contentsOf: spec).lambda
        XCTAssertEqual(settings.assumptions.cpuSpeedFactor, 0.8)
        XCTAssertEqual(settings.assumptions.s3ReadMegabytesPerSecond, 50)
    }

    func testCalibrationWithoutPairsSaysWhatIsMissing() {
        XCTAssertThrowsError(try Calibration.fit(records: records().filter { $0.source == .local },
                                                 lambda: LambdaSettings(), path: "x/ranks.csv")) { error in
            XCTAssertTrue("\(error)".contains("x/ranks.csv"), "\(error)")
        }
    }

    func testLambdaRowsRoundTripThroughRanksCSV() throws {
        let original = records()
        let table = try RankRecord.table(original)
        XCTAssertTrue(table.columns.contains("lambda_billed_ms"))
        let back = try RankRecord.records(in: table, path: "ranks.csv")
        XCTAssertEqual(back, original)
        XCTAssertEqual(back.map(\.source), original.map(\.source))
    }
}
