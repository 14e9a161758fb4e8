import ArgumentParser
import CAIWorkload
import CAIWorkloadAWS
import CosmicSupport
import Foundation
import LambdaRuntime

/// The child side of `RankLauncher`: one rank, one process, on the storage
/// the task names. The rank measures itself and writes its result once; a
/// rank that fails writes its own failure record, then exits 1. A missing or
/// malformed task file is a runtime failure (exit 1, plain message), not a
/// command-line mistake.
struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one rank from a task file (used internally by run and sweep).",
        shouldDisplay: false)

    @Argument(help: "Rank task JSON written by the launcher.")
    var task: String

    func run() throws {
        let task = try RankTask.load(contentsOf: URL(fileURLWithPath: self.task))
        // The rank's clock starts when the kernel started this process.
        let host = RankWorker.Host.process(runtime: task.storage.kind)
        let opened = try task.storage.open()
        defer { opened.shutdown() }
        // The result goes to storage once; standard output tells the launcher what it was.
        do {
            let result = try RankWorker.run(task.job, storage: opened.storage, host: host)
            FileHandle.standardOutput.write(try RankResult.encoder.encode(result))
        } catch {
            let failure = RankResult.failed(task.job, status: .failed, exitStatus: 1, reason: "\(error)",
                                            processSeconds: MonotonicClock.now() - host.started)
            try? RankWorker.write(failure, of: task.job, to: opened.storage)
            if let report = try? RankResult.encoder.encode(failure) { FileHandle.standardOutput.write(report) }
            throw CommandFailure("rank \(task.job.rank): \(error)")
        }
    }
}

/// `cosmicbench lambda`: the container's entry point. Speaks the Lambda
/// Runtime API at AWS_LAMBDA_RUNTIME_API and runs the handler that
/// COSMICBENCH_HANDLER names (initialize, rank or summarize).
struct LambdaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda",
        abstract: "Serve Lambda invocations through the Runtime API (the container entry point).",
        discussion: """
            Environment: AWS_LAMBDA_RUNTIME_API (set by Lambda), COSMICBENCH_HANDLER = initialize | rank | \
            summarize, the standard AWS credentials and region, optionally AWS_ENDPOINT_URL_S3, \
            COSMICBENCH_WEIGHTS (checkpoint inside the image; default seeded weights), COSMICBENCH_THREADS \
            (per rank; default every CPU). The model is loaded once and reused by warm invocations.
            """)

    func run() throws {
        Task.detached {
            await LambdaRuntimeLoop.main(makeHandler: PipelineLambda.makeHandler)
        }
        dispatchMain()
    }
}
