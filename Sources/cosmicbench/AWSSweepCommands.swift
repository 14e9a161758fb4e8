import ArgumentParser
import CosmicSupport
import Foundation
import SweepAWS
import SweepKit

/// Where `sweep --executor aws` runs: the deployed stack and its buckets.
enum ExecutorKind: String, ExpressibleByArgument, CaseIterable {
    case local, aws
}

struct AWSSweepArguments: ParsableArguments {
    @Option(name: .long, help: "Where ranks run: local (child processes) or aws (the stack's Step Functions and Lambda; credentials, region and endpoints from the standard AWS environment).")
    var executor: ExecutorKind = .local

    @Option(name: .long, help: "Stack name of the deployed template (--executor aws).")
    var stack: String?

    @Option(name: .long, help: "Bucket the stack's functions read partitions from (--executor aws).")
    var dataBucket: String?

    @Option(name: .long, help: "Key prefix of the data the stack may read.")
    var dataPrefix: String = ""

    @Option(name: .long, help: "Bucket the stack's ranks write results to (--executor aws).")
    var resultsBucket: String?

    @Option(name: .long, help: "Key prefix the stack may write results under.")
    var resultsPrefix: String = ""

    func validate() throws {
        guard executor == .aws else {
            if stack != nil || dataBucket != nil || resultsBucket != nil {
                throw ValidationError("--stack, --data-bucket and --results-bucket need --executor aws")
            }
            return
        }
        for (flag, value) in [("--stack", stack), ("--data-bucket", dataBucket), ("--results-bucket", resultsBucket)]
            where value?.isEmpty ?? true {
            throw ValidationError("--executor aws needs \(flag)")
        }
    }

    /// The stack to sweep on, nil for a local sweep.
    func target() throws -> StackTarget? {
        guard executor == .aws, let stack, let dataBucket, let resultsBucket else { return nil }
        return try StackTarget(stack: stack, dataBucket: dataBucket, dataPrefix: dataPrefix,
                               resultsBucket: resultsBucket, resultsPrefix: resultsPrefix)
    }
}

/// `cosmicbench calibrate`: fit the Lambda model to ranks measured on Lambda.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit the Lambda model's assumptions to the ranks a sweep measured on Lambda; print a [lambda] block.",
        discussion: "Pairs each Lambda rank of DIR/ranks.csv with the local run of the same rank (run the spec locally and with --executor aws into the same results). Fits cpu_speed_factor, parallel_efficiency, s3_mb_per_second and cold_start_seconds; a figure that cannot be fitted is left as a comment saying why.")

    @Argument(help: "Sweep results directory holding local and Lambda rows.")
    var directory: String

    @Option(name: .long, help: "Spec whose [lambda] settings the fit starts from (default: the model's defaults).")
    var spec: String?

    @Option(name: .long, help: "Write the block to this file (default: stdout).")
    var out: String?

    func run() throws {
        let files = SweepFiles(directory: URL(fileURLWithPath: directory))
        guard FileManager.default.fileExists(atPath: files.ranks.path) else {
            throw SweepError.missingResults(path: directory)
        }
        let records = try RankRecord.records(in: try CSVTable.read(files.ranks), path: files.ranks.path)
        let settings = try spec.map { try SweepSpec(contentsOf: URL(fileURLWithPath: $0)).lambda } ?? LambdaSettings()
        let fit = try Calibration.fit(records: records, lambda: settings, path: files.ranks.path)
        let text = fit.toml(source: files.ranks.path)
        if let out {
            try AtomicFile.write(text, to: URL(fileURLWithPath: out))
            print("wrote \(out)")
        } else {
            print(text, terminator: "")
        }
    }
}
