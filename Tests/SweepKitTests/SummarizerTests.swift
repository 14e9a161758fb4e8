import CAIWorkload
import LambdaCost
import SweepKit
import XCTest

final class SummarizerTests: XCTestCase {
    func record(_ c: SweepConfiguration, rep: Int, rank: Int, inference: Double, peak: Double = 1000,
                status: RankResult.Status = .ok) -> RankRecord {
        let samples = c.samplesInFile(rank + 1)
        return RankRecord(configuration: c, repetition: rep, rank: rank, file: "\(rank + 1).safetensors",
                          fileSamples: samples, remainderFile: samples < c.partition.samplesPerFile, status: status,
                          samples: status == .ok ? samples : 0, numBatches: 3, inferenceSeconds: inference,
                          modelLoadSeconds: 0.5, dataLoadSeconds: 0.02, processSeconds: inference + 0.6, cpuSeconds: inference,
                          peakRSSMB: peak, blasCore: "Core", blasThreads: c.threads, weights: "seeded", dataSource: "test",
                          verification: "passed", error: "")
    }

    /// Statistics, auto memory, per-rank durations, makespan and cost agree
    /// with LambdaCost called directly on the same inputs.
    func testFleetModelMatchesLambdaCost() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 512, amount: .fileLimit(5), threads: 1)
        let records = [
            record(c, rep: 1, rank: 0, inference: 6.0), record(c, rep: 1, rank: 1, inference: 6.4),
            record(c, rep: 2, rank: 0, inference: 6.2), record(c, rep: 2, rank: 1, inference: 9.0, peak: 1100),
        ]
        var lambda = LambdaSettings()
        lambda.scaling.accountConcurrency = 2
        lambda.scaling.burst = 2
        lambda.scaling.scalingIncrement = 0
        let rows = try Summarizer.summarize(records: records, lambda: lambda)
        XCTAssertEqual(rows.count, 1)
        let row = rows[0]
        XCTAssertEqual(row["status"], "ok")
        XCTAssertEqual(row.number("measured_inference_median_s")!, 6.3, accuracy: 1e-9)
        XCTAssertEqual(row.number("measured_inference_mean_s")!, 6.9, accuracy: 1e-9)
        XCTAssertEqual(row.number("measured_inference_min_s")!, 6.0, accuracy: 1e-9)
        XCTAssertEqual(row.number("measured_inference_max_s")!, 9.0, accuracy: 1e-9)
        XCTAssertEqual(row.number("measured_peak_rss_mb")!, 1100, accuracy: 1e-9)
        let rate = 1278 / 6.3
        XCTAssertEqual(row.number("measured_rank_samples_per_s")!, rate, accuracy: 1e-3)
        XCTAssertEqual(row.number("measured_rank_bits_per_s")!, rate * 164_160, accuracy: 0.1)
        XCTAssertEqual(row.number("measured_rank_gb_per_s")!, rate * 20_520 / 1e9, accuracy: 1e-9)

        let memory = try autoMemory(peakRSSBytes: Int((1100 * 1_048_576.0).rounded(.up))).memoryMB
        XCTAssertEqual(row["modelled_memory_mb"], String(memory))
        XCTAssertEqual(row["modelled_efficiency_source"], "assumed")
        let modelBytes = Summarizer.modelBytes
        func duration(_ inference: Double) throws -> RankDurationBreakdown {
            try lambdaRankDuration(measured: LocalRankMeasurement(
                modelLoadSeconds: 0.5, dataLoadSeconds: 0.02, inferenceSeconds1Thread: inference,
                dataBytes: 1278 * 20_524, modelBytes: modelBytes), memoryMB: memory)
        }
        // Ranks 0 and 1 use their own medians (6.1 and 7.7); ranks 2–4 the pooled median 6.3.
        let ranks = try [duration(6.1), duration(7.7), duration(6.3), duration(6.3), duration(6.3)]
        let schedule = try simulateFleet(durations: ranks.map(\.totalSeconds), scaling: lambda.scaling)
        XCTAssertEqual(row.number("modelled_makespan_s")!, schedule.makespanSeconds, accuracy: 1e-6)
        XCTAssertEqual(row["modelled_peak_concurrency"], "2")
        let s3 = try S3Requests.caiPipeline(partitionFiles: 5, ranks: 5)
        let aux = LambdaInvocation(memoryMB: 512, billedMilliseconds: 1000)
        let cost = try fleetCost(rankBilledMilliseconds: ranks.map(\.billedMilliseconds), memoryMB: memory,
                                 auxiliaryInvocations: [aux, aux], s3: s3)
        XCTAssertEqual(row.number("modelled_cost_total_usd")!, cost.totalDollars, accuracy: 1e-8)
        XCTAssertEqual(row["modelled_lambda_requests"], "7")
        let meanBilled = ranks.map(\.billedSeconds).reduce(0, +) / 5
        XCTAssertEqual(row.number("modelled_simple_cost_usd")!,
                       simpleCost(requests: 5, durationSeconds: meanBilled, memoryGB: Double(memory) / 1024), accuracy: 1e-8)
        XCTAssertEqual(row.number("modelled_fleet_samples_per_s")!, 5 * 1278 / schedule.makespanSeconds, accuracy: 1e-3)
    }

    /// Measured 1- and 2-thread medians give the parallel efficiency, the
    /// same modelled figures for both thread variants, and fixed memory
    /// settings give one row each.
    func testParallelEfficiencyAndMemoryList() throws {
        let one = SweepConfiguration(partition: .mb50, batchSize: 128, amount: .fileLimit(3), threads: 1)
        let two = SweepConfiguration(partition: .mb50, batchSize: 128, amount: .fileLimit(3), threads: 2)
        let records = [
            record(one, rep: 1, rank: 0, inference: 12), record(one, rep: 2, rank: 0, inference: 12),
            record(two, rep: 1, rank: 0, inference: 8), record(two, rep: 2, rank: 0, inference: 8),
        ]
        var lambda = LambdaSettings()
        lambda.memory = [.fixed(megabytes: 3538), .fixed(megabytes: 1769)]
        let rows = try Summarizer.summarize(records: records, lambda: lambda)
        XCTAssertEqual(rows.map(\.configID), ["50MB-b128-files3-t1", "50MB-b128-files3-t1",
                                              "50MB-b128-files3-t2", "50MB-b128-files3-t2"])
        XCTAssertEqual(rows[0]["modelled_parallel_efficiency"], "0.75")
        XCTAssertEqual(rows[0]["modelled_efficiency_source"], "measured 1 vs 2 threads")
        XCTAssertEqual(rows[0]["modelled_memory_mb"], "3538")
        XCTAssertEqual(rows[1]["modelled_memory_mb"], "1769")
        // 2 vCPUs at e = 0.75: inference 12 / 1.75.
        XCTAssertEqual(rows[0].number("modelled_rank_inference_s")!, 12 / 1.75, accuracy: 1e-6)
        XCTAssertEqual(rows[1].number("modelled_rank_inference_s")!, 12, accuracy: 1e-6)
        XCTAssertEqual(rows[2]["modelled_rank_inference_s"], rows[0]["modelled_rank_inference_s"])
        XCTAssertEqual(rows[2]["modelled_basis_threads"], "1")
        XCTAssertEqual(rows[2].number("measured_inference_median_s")!, 8, accuracy: 1e-9)
    }

    /// A workload without its own 2-thread runs takes the efficiency measured
    /// for the same partition and batch size at another amount of data, else
    /// the sweep's median; speeds beyond 2 measured threads say "extrapolated",
    /// and without any 2-thread run more than one vCPU is "assumed".
    func testEfficiencyCarriesOverAndExtrapolationIsLabelled() throws {
        let one = SweepConfiguration(partition: .mb50, batchSize: 128, amount: .fileLimit(3), threads: 1)
        let two = SweepConfiguration(partition: .mb50, batchSize: 128, amount: .fileLimit(3), threads: 2)
        let more = SweepConfiguration(partition: .mb50, batchSize: 128, amount: .fileLimit(6), threads: 1)
        let other = SweepConfiguration(partition: .mb25, batchSize: 64, amount: .fileLimit(2), threads: 1)
        let records = [
            record(one, rep: 1, rank: 0, inference: 12), record(two, rep: 1, rank: 0, inference: 8),
            record(more, rep: 1, rank: 0, inference: 12), record(other, rep: 1, rank: 0, inference: 3),
        ]
        var lambda = LambdaSettings()
        lambda.memory = [.fixed(megabytes: 1769), .fixed(megabytes: 3538), .fixed(megabytes: 10240)]
        let rows = try Summarizer.summarize(records: records, lambda: lambda)
        let byID = Dictionary(grouping: rows, by: \.configID)
        let carried = byID["50MB-b128-files6-t1"]!
        XCTAssertEqual(carried[0]["modelled_parallel_efficiency"], "0.75")
        XCTAssertEqual(carried[0]["modelled_efficiency_source"], "measured 1 vs 2 threads, 50MB batch 128 at another data size")
        XCTAssertEqual(carried.map { $0["modelled_vcpu_basis"] }, ["measured", "measured", "extrapolated"])
        let median = byID["25MB-b64-files2-t1"]!
        XCTAssertEqual(median[0]["modelled_efficiency_source"], "measured 1 vs 2 threads, median of 1 other workload(s)")

        let alone = try Summarizer.summarize(records: [record(other, rep: 1, rank: 0, inference: 3)], lambda: lambda)
        XCTAssertEqual(alone.map { $0["modelled_vcpu_basis"] }, ["measured", "assumed", "assumed"])
        XCTAssertEqual(alone[0]["modelled_efficiency_source"], "assumed")
    }

    /// A memory size below the measured peak RSS is marked as one Lambda
    /// could not run and gets no duration or cost.
    func testMemoryBelowPeakIsNotPriced() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 64, amount: .fileLimit(2), threads: 1)
        var lambda = LambdaSettings()
        lambda.memory = [.fixed(megabytes: 512), .fixed(megabytes: 1769)]
        let rows = try Summarizer.summarize(records: [record(c, rep: 1, rank: 0, inference: 3, peak: 600)],
                                            lambda: lambda)
        XCTAssertEqual(rows[0]["modelled_lambda_fits"], "no: 512 MB is below the measured peak RSS of 600.0 MB")
        XCTAssertEqual(rows[0]["modelled_cost_total_usd"], "")
        XCTAssertEqual(rows[0]["modelled_makespan_s"], "")
        XCTAssertEqual(rows[0]["modelled_memory_mb"], "512")
        XCTAssertEqual(rows[1]["modelled_lambda_fits"], "yes")
        XCTAssertNotEqual(rows[1]["modelled_cost_total_usd"], "")
        XCTAssertNotNil(rows[0].lambdaCannotRunReason)
    }

    /// The short last file is modelled from its own measurement, and an
    /// unmeasured remainder from the full-file median scaled by samples.
    func testRemainderRank() throws {
        let c = SweepConfiguration(partition: .mb100, batchSize: 512, amount: .dataSize(try DataSize(parsing: "1GB")), threads: 1)
        XCTAssertEqual(c.worldSize, 11)
        let remainder = c.samplesInFile(11)
        var records = [record(c, rep: 1, rank: 0, inference: 20), record(c, rep: 1, rank: 10, inference: 4)]
        let measured = try Summarizer.summarize(records: records, lambda: LambdaSettings())[0]
        XCTAssertEqual(measured.number("measured_inference_median_s")!, 20, accuracy: 1e-9, "remainder excluded from stats")
        XCTAssertEqual(measured.number("measured_remainder_inference_median_s")!, 4, accuracy: 1e-9)
        XCTAssertEqual(measured["remainder_samples"], String(remainder))

        records.removeLast()
        let scaled = try Summarizer.summarize(records: records, lambda: LambdaSettings())[0]
        XCTAssertEqual(scaled["measured_remainder_inference_median_s"], "")
        // The fleet mean: ten full ranks and one remainder rank whose
        // inference is the full median scaled by its samples.
        let memory = Int(scaled["modelled_memory_mb"])!
        func modelled(_ inference: Double, _ samples: Int) throws -> Double {
            try lambdaRankDuration(measured: LocalRankMeasurement(
                modelLoadSeconds: 0.5, dataLoadSeconds: 0.02, inferenceSeconds1Thread: inference,
                dataBytes: samples * 20_524, modelBytes: Summarizer.modelBytes), memoryMB: memory).totalSeconds
        }
        let full = try modelled(20, 5113)
        let last = try modelled(20 * Double(remainder) / 5113, remainder)
        XCTAssertEqual(scaled.number("modelled_rank_duration_s")!, full, accuracy: 1e-6)
        XCTAssertEqual(scaled.number("modelled_rank_duration_mean_s")!, (10 * full + last) / 11, accuracy: 1e-6)
    }

    func testFailedConfiguration() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 32, amount: .fileLimit(2), threads: 1)
        let rows = try Summarizer.summarize(records: [record(c, rep: 1, rank: 0, inference: 0, status: .failed)],
                                            lambda: LambdaSettings())
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["status"], "failed")
        XCTAssertEqual(rows[0]["measured_failed_runs"], "1")
        XCTAssertEqual(rows[0]["modelled_cost_total_usd"], "")
    }

    func testSummaryJSONMatchesCSV() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 32, amount: .fileLimit(2), threads: 1)
        let rows = try Summarizer.summarize(records: [record(c, rep: 1, rank: 0, inference: 5)], lambda: LambdaSettings())
        let json = try SummaryRow.json(rows)
        let decoded = try JSONSerialization.jsonObject(with: json) as! [[String: Any]]
        XCTAssertEqual(decoded.count, 1)
        XCTAssertEqual(decoded[0]["config_id"] as? String, "25MB-b32-files2-t1")
        XCTAssertEqual((decoded[0]["measured_inference_median_s"] as? NSNumber)?.doubleValue, 5)
        XCTAssertEqual(decoded[0]["modelled_exceeds_timeout"] as? Bool, false)
        // Every non-empty CSV cell is in the JSON with the same value; empty figures are left out.
        let table = try SummaryRow.table(rows)
        for (column, cell) in zip(table.columns, table.rows[0]) {
            if cell.isEmpty {
                XCTAssertTrue(decoded[0][column] == nil || decoded[0][column] as? String == "", column)
            } else if cell == "true" || cell == "false" {
                XCTAssertEqual(decoded[0][column] as? Bool, cell == "true", column)
            } else if let number = decoded[0][column] as? NSNumber {
                XCTAssertEqual(number.doubleValue, Double(cell)!, accuracy: 1e-12, column)
            } else {
                XCTAssertEqual("\(decoded[0][column]!)", cell, column)
            }
        }
    }
}

final class RankRecordTests: XCTestCase {
    /// A record survives a trip through ranks.csv unchanged, so rows kept
    /// on resume are rewritten byte for byte.
    func testRoundTripIsExact() throws {
        let c = SweepConfiguration(partition: .mb25, batchSize: 128, amount: .dataSize(try DataSize(parsing: "0.001GB")),
                                   threads: 1)
        let record = RankRecord(configuration: c, repetition: 1, rank: 0, file: "1.safetensors", fileSamples: 52,
                                remainderFile: true, status: .ok, samples: 52, numBatches: 1,
                                inferenceSeconds: 0.17532912345, modelLoadSeconds: 0.1056789, dataLoadSeconds: 0.000263111,
                                processSeconds: 0.30961777, cpuSeconds: 0.3081234, peakRSSMB: 179.16012,
                                blasCore: "Core", blasThreads: 1, weights: "seeded", dataSource: "synthetic seed 1",
                                verification: "passed, \"quoted\"", error: "")
        let text = try RankRecord.table([record]).encoded()
        let back = try RankRecord.records(in: try CSVTable.parse(text, path: "ranks.csv"), path: "ranks.csv")
        XCTAssertEqual(back, [record])
        XCTAssertEqual(try RankRecord.table(back).encoded(), text)
    }
}
