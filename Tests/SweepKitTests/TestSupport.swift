import CAIWorkload
import Foundation
import SweepKit
import XCTest

/// A fresh directory under the system temporary directory, removed at teardown.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("sweepkit-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// A rank result as a finished rank would report it, with made-up but
/// deterministic timings: inference grows with samples and shrinks with
/// batch size and threads; repetition `jitter` perturbs it slightly.
func fakeResult(for job: RankJob, samples: Int, jitter: Double = 0, peakMB: Double = 900) -> RankResult {
    var result = RankResult.failed(rank: job.rank, worldSize: job.worldSize, files: job.files, batchSize: job.batchSize,
                                   resultPath: job.resultPath, status: .ok, exitStatus: 0, stderrTail: "",
                                   processSeconds: 0)
    let perSample = 0.004 * (1 + 32.0 / Double(job.batchSize)) / (job.threads == 1 ? 1 : 1.6)
    let inference = Double(samples) * perSample * (1 + jitter)
    result.stderrTail = nil
    result.samples = samples
    result.numBatches = (samples + job.batchSize - 1) / job.batchSize
    result.inferenceSeconds = inference
    result.modelLoadSeconds = 0.4
    result.dataLoadSeconds = 0.01
    result.processSeconds = inference + 0.5
    result.cpuSeconds = inference * Double(job.threads)
    result.peakRSSMB = peakMB + Double(job.batchSize) * 0.5
    result.blasCore = "FakeCore"
    result.threads = job.threads
    result.weights = "seeded:\(job.seed)"
    result.samplePerSec = Double(samples) / inference
    result.throughputBPS = result.samplePerSec * Double(RankWorker.bitsPerSample)
    result.caiTotalCPUTime = inference
    return result
}

/// Partitions that exist only on paper: each rank's file is named by its
/// index and holds the planned sample count.
struct PaperPartitions: PartitionProviding {
    var sourceDescription: String { "paper" }
    var dataDirectory: URL { URL(fileURLWithPath: "/nonexistent") }

    func prepare(_ c: SweepConfiguration, ranks: [Int]) throws -> (prefix: String, names: [String]) {
        (c.partition.rawValue, (1...c.fileLimit).map { "\($0).safetensors" })
    }
}

let fixedEnvironment = EnvironmentInfo(
    cpuModel: "Test CPU", cores: 2, openBLASConfig: "OpenBLAS 0.0 test", openBLASCore: "FakeCore", openBLASThreads: 2,
    swiftVersion: "Swift version 0.0", gitCommit: "unknown", date: "2026-01-01T00:00:00Z", os: "Linux test")

/// A sweep runner whose ranks are computed by `fakeResult`, with a counter
/// of rank batches so tests can interrupt it.
final class FakeSweep {
    var calls = 0
    var failAfterCalls: Int?
    var failRank: (Int, Int)?  // (call number, rank) to report as failed

    func runner(spec: SweepSpec) -> SweepRunner {
        let runner = SweepRunner(
            spec: spec,
            executor: ClosureRankExecutor { jobs in
                self.calls += 1
                if let limit = self.failAfterCalls, self.calls > limit {
                    throw InterruptForTest()
                }
                return jobs.map { job in
                    var result = fakeResult(for: job, samples: self.samples(job), jitter: Double(self.calls % 3) * 0.01)
                    if let (call, rank) = self.failRank, call == self.calls, rank == job.rank {
                        result.status = .failed
                        result.stderrTail = "simulated crash\n"
                    }
                    return result
                }
            },
            verifier: ClosureVerifier { threads, _ in "passed fake fixture, \(threads) thread(s)" },
            partitions: PaperPartitions())
        runner.environment = { fixedEnvironment }
        return runner
    }

    /// Planned samples of the job's file, recovered from the configuration
    /// in its result path (`<configuration>/<repetition>`).
    private func samples(_ job: RankJob) -> Int {
        let id = job.resultPath.split(separator: "/").first.map(String.init) ?? ""
        let partition = PartitionSize(rawValue: String(id.prefix { $0 != "-" }))!
        let index = job.rank + 1
        if id.contains("-files") { return partition.samplesPerFile }
        let sizeText = id.split(separator: "-")[2]
        let size = try! DataSize(parsing: String(sizeText))
        return size.samplesInFile(index: index, partition: partition)
    }
}

struct InterruptForTest: Error {}

/// A summary row from CSV cells, as `summary.csv` would hold them; columns
/// not given get neutral values (an ok, one-run configuration).
func summaryRow(_ cells: [String: String]) -> SummaryRow {
    var all: [String: String] = [
        "config_id": "25MB-b512-1GB-t1", "status": "ok", "failure": "", "source": "measured ranks + modelled fleet",
        "partition": "25MB", "partition_mb": "25", "batch_size": "512", "data_size": "", "file_limit": "1",
        "world_size": "1", "threads": "1", "total_samples": "0", "samples_per_full_file": "1278",
        "remainder_samples": "0", "repetitions": "1", "measured_ranks": "1", "measured_runs": "1",
        "measured_failed_runs": "0", "measured_stat_basis": "full file", "measured_stat_runs": "1",
        "measured_remainder_runs": "0", "measured_blas_core": "", "verification": "",
    ]
    for (key, value) in cells { all[key] = value }
    let columns = Array(all.keys).sorted()
    let table = CSVTable(columns: columns, rows: [columns.map { all[$0]! }])
    return try! CSVRecordCoder.records(SummaryRow.self, from: table, path: "test").first!
}

extension SummaryRow {
    /// The cell `summary.csv` holds for `column` (tests compare against file text).
    subscript(column: String) -> String {
        let table = try! SummaryRow.table([self])
        guard let index = table.index(of: column) else { return "<no column \(column)>" }
        return table.rows[0][index]
    }

    func number(_ column: String) -> Double? { NumberFormat.parse(self[column]) }
}

/// Runs `binary` with `arguments` in `directory` and returns what it printed
/// (stdout and stderr), asserting its exit status. A non-empty `environment`
/// replaces every inherited `AWS_` variable, so a developer's own AWS setup
/// never reaches a test's harness.
@discardableResult
func runBinary(_ binary: URL, _ arguments: [String], environment: [String: String] = [:], in directory: URL,
               expect status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var inherited = ProcessInfo.processInfo.environment
    if !environment.isEmpty { inherited = inherited.filter { !$0.key.hasPrefix("AWS_") } }
    process.environment = inherited.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, status, "cosmicbench \(arguments.joined(separator: " ")):\n\(output)",
                   file: file, line: line)
    return output
}
