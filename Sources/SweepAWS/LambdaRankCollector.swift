import AWSClient
import CAIWorkload
import Foundation
import SweepKit

extension LambdaSweepMeasurer {
    /// The rows of one finished execution: every rank's JSON from S3 (the
    /// summarizer's `combined_data.json` when the execution succeeded, else
    /// each `{rank}.json`), joined by request id to the rank function's
    /// REPORT lines. A rank with neither is a failed row carrying the
    /// execution's error and cause.
    func collect(_ c: SweepConfiguration, state: ExecutionState, execution: String, resultPath: String, memory: Int,
                 repetition: Int, dataSource: String) throws -> [RankRecord] {
        let (results, problems) = readResults(c, state: state, resultPath: resultPath)
        let stop = state.stopDate ?? Date().timeIntervalSince1970
        let reports = try reportsByRequest(start: state.startDate, stop: stop)
        let executionSeconds = max(stop - state.startDate, 0)
        return (0..<c.worldSize).map { rank in
            let result = results[rank] ?? RankResult.failed(
                rank: rank, worldSize: c.worldSize, files: [], batchSize: c.batchSize, resultPath: resultPath,
                status: .failed, exitStatus: nil,
                stderrTail: "\(problems[rank] ?? "no result"); execution \(state.failureText)", processSeconds: 0)
            var record = RankRecord(result: result, configuration: c, repetition: repetition,
                                    file: result.files.joined(separator: " "),
                                    fileSamples: result.status == .ok ? result.samples : c.samplesInFile(rank + 1),
                                    dataSource: dataSource, verification: "none on Lambda (the worker image's build)")
            record.rank = rank
            record.source = .lambda
            record.lambda = figures(result, report: result.lambdaRequestID.flatMap { reports[$0] }, memory: memory,
                                    execution: execution, executionSeconds: executionSeconds)
            return record
        }
    }

    /// Rank results by rank, and for each rank without one what was wrong
    /// (the objects are untrusted: a missing, unreadable or mislabelled one
    /// is a failed rank, named).
    private func readResults(_ c: SweepConfiguration, state: ExecutionState, resultPath: String)
        -> (results: [Int: RankResult], problems: [Int: String])
    {
        var byRank: [Int: RankResult] = [:]
        var problems: [Int: String] = [:]
        let bucket = target.resultsBucket
        if state.status == .succeeded,
           let data = try? storage.read(bucket: bucket, key: ObjectKey.join(resultPath, "combined_data.json")),
           let combined = try? JSONDecoder().decode([RankResult].self, from: data) {
            for result in combined where (0..<c.worldSize).contains(result.rank) { byRank[result.rank] = result }
        }
        for rank in 0..<c.worldSize where byRank[rank] == nil {
            let key = ObjectKey.join(resultPath, "\(rank).json")
            let name = storage.displayName(bucket: bucket, key: key)
            do {
                let result = try JSONDecoder().decode(RankResult.self, from: try storage.read(bucket: bucket, key: key))
                if result.rank == rank { byRank[rank] = result } else { problems[rank] = "\(name) is rank \(result.rank)'s result" }
            } catch is DecodingError {
                problems[rank] = "\(name) is not a rank result"
            } catch {
                problems[rank] = "no \(name) (\(error))"
            }
        }
        return (byRank, problems)
    }

    /// The rank function's REPORT lines around the execution, by request id.
    private func reportsByRequest(start: Double, stop: Double) throws -> [String: LambdaReportLine] {
        let margin = 60.0
        let lines = try control.reportLines(logGroup: target.rankLogGroup, startMs: Int64((start - margin) * 1_000),
                                            endMs: Int64((stop + margin) * 1_000))
        var byRequest: [String: LambdaReportLine] = [:]
        for line in lines {
            if let report = LambdaReportLine(line) { byRequest[report.requestID] = report }
        }
        return byRequest
    }

    /// AWS's figures from the REPORT line, else the worker's own timings, else none.
    private func figures(_ result: RankResult, report: LambdaReportLine?, memory: Int, execution: String,
                         executionSeconds: Double) -> LambdaFigures {
        let requestID = result.lambdaRequestID ?? ""
        if let report {
            return LambdaFigures(memoryMB: report.memorySizeMB, durationMs: report.durationMs,
                                 billedMs: report.billedDurationMs, maxMemoryUsedMB: report.maxMemoryUsedMB,
                                 initMs: report.initDurationMs, coldStart: report.initDurationMs != nil,
                                 figures: .reportLog, requestID: requestID, execution: execution,
                                 executionSeconds: executionSeconds)
        }
        guard result.status == .ok || result.processSeconds > 0 else {
            return LambdaFigures(memoryMB: memory, durationMs: 0, billedMs: 0, maxMemoryUsedMB: 0, initMs: nil,
                                 coldStart: false, figures: .none, requestID: requestID, execution: execution,
                                 executionSeconds: executionSeconds)
        }
        let milliseconds = result.processSeconds * 1_000
        return LambdaFigures(memoryMB: result.lambdaMemoryMB ?? memory, durationMs: milliseconds,
                             billedMs: Int(milliseconds.rounded(.up)), maxMemoryUsedMB: Int(result.peakRSSMB.rounded(.up)),
                             initMs: nil, coldStart: result.coldStart ?? false, figures: .workerTimings,
                             requestID: requestID, execution: execution, executionSeconds: executionSeconds)
    }
}
