import CAIWorkload
import CosmicSupport
import Foundation
import LambdaCost
import SweepKit

/// Measures a sweep's configurations on a deployed stack: for each Lambda
/// memory size of the spec, set the rank function's memory (and wait for
/// the update), then per repetition start one Step Functions execution with
/// the CAI payload, poll it with backoff, and read the ranks' JSON from S3
/// and their REPORT lines from CloudWatch Logs.
///
/// Every rank of the configuration runs (the state machine maps them all),
/// so `measure` in the spec does not apply. Executions are named from what
/// they measure (`ExecutionName`), and a configuration re-measured after a
/// failure uses the next attempt number.
public final class LambdaSweepMeasurer: RemoteMeasuring {
    public let source = MeasurementSource.lambda
    public let target: StackTarget
    let control: StackControl
    let storage: ObjectStorage
    let uploader: PartitionUploading
    /// Seconds between DescribeExecution calls: from `initial`, ×1.5 up to `maximum`.
    public var poll = (initial: 0.5, maximum: 5.0)
    public var executionTimeoutSeconds = 4 * 3600.0
    /// Polled while waiting; true stops the sweep with `AWSSweepError.interrupted`.
    public var isInterrupted: () -> Bool = { InterruptFlag.isSet }
    /// One line per step worth telling (uploads, memory updates, executions).
    public var log: (String) -> Void = { _ in }
    private var stateMachine: String?
    private var finished = 0

    public init(target: StackTarget, control: StackControl, storage: ObjectStorage, uploader: PartitionUploading) {
        self.target = target
        self.control = control
        self.storage = storage
        self.uploader = uploader
    }

    /// The fixed memory sizes of the spec (`auto` is refused: nothing local resolves it here).
    static func memorySizes(_ spec: SweepSpec, configuration: String) throws -> [Int] {
        try spec.lambda.memory.map { setting in
            guard case let .fixed(megabytes) = setting else { throw AWSSweepError.memoryNotFixed(configuration: configuration) }
            return megabytes
        }
    }

    public func measure(_ c: SweepConfiguration, spec: SweepSpec, partitions: PartitionProviding, earlier: [RankRecord],
                        onEvent: ((SweepEvent) -> Void)?) throws -> [RankRecord] {
        let memories = try Self.memorySizes(spec, configuration: c.id)
        let dataPrefix = try upload(c, partitions: partitions)
        let machine = try stateMachineARN()
        var records: [RankRecord] = []
        for memory in memories {
            if try control.functionMemory(target.rankFunction) != memory {
                log("setting \(target.rankFunction) to \(memory) MB")
                try control.setFunctionMemory(target.rankFunction, megabytes: memory)
            }
            let previous = earlier.filter { $0.lambda?.memoryMB == memory }
            let attempt = (previous.compactMap { $0.lambda.flatMap { ExecutionName.attempt(of: $0.execution) } }.max() ?? 0) + 1
            if spec.warmup > 0 {
                for w in 1...spec.warmup {
                    onEvent?(.repetition(number: 0, of: spec.repetitions, etaSeconds: nil))
                    _ = try execute(c, spec: spec, machine: machine, dataPrefix: dataPrefix, memory: memory,
                                    label: "warmup\(w)", attempt: attempt)
                }
            }
            for repetition in 1...spec.repetitions {
                onEvent?(.repetition(number: repetition, of: spec.repetitions, etaSeconds: nil))
                let (state, name, resultPath) = try execute(c, spec: spec, machine: machine, dataPrefix: dataPrefix,
                                                            memory: memory, label: "rep\(repetition)", attempt: attempt)
                records += try collect(c, state: state, execution: name, resultPath: resultPath, memory: memory,
                                       repetition: repetition, dataSource: partitions.sourceDescription)
                onEvent?(.repetitionFinished(id: "\(c.id) at \(memory) MB", number: repetition, of: spec.repetitions,
                                             etaSeconds: nil))
            }
        }
        return records
    }

    private func stateMachineARN() throws -> String {
        if let stateMachine { return stateMachine }
        let arn = try control.stateMachineARN(named: target.stateMachineName)
        stateMachine = arn
        return arn
    }

    /// Puts the configuration's partitions under the stack's data prefix
    /// (skipping objects already there with the same content); returns the
    /// payload's `data_prefix`.
    func upload(_ c: SweepConfiguration, partitions: PartitionProviding) throws -> String {
        let (prefix, names) = try partitions.prepare(c, ranks: Array(0..<c.worldSize))
        let dataPrefix = ObjectKey.join(target.dataPrefix, prefix)
        let folder = prefix.isEmpty ? partitions.dataDirectory : partitions.dataDirectory.appendingPathComponent(prefix)
        let assigned = try DataMap(files: names, fileLimit: c.fileLimit, worldSize: c.worldSize, prefix: dataPrefix)
            .assignments.joined()
        var uploaded = 0
        for name in assigned {
            let file = folder.appendingPathComponent(name)
            if try uploader.upload(file, bucket: target.dataBucket, key: ObjectKey.join(dataPrefix, name)) { uploaded += 1 }
        }
        if uploaded > 0 { log("uploaded \(uploaded) partition(s) to s3://\(target.dataBucket)/\(dataPrefix)/") }
        return dataPrefix
    }

    /// Finds or starts one execution and polls it until it finishes.
    func execute(_ c: SweepConfiguration, spec: SweepSpec, machine: String, dataPrefix: String, memory: Int,
                 label: String, attempt: Int) throws -> (ExecutionState, String, String) {
        let name = ExecutionName.make(sweep: spec.name, configuration: c.id, memoryMB: memory, label: label,
                                      attempt: attempt)
        let resultPath = ObjectKey.join(target.resultsPrefix, "\(spec.name)/\(c.id)/\(memory)mb/\(label)-a\(attempt)")
        var state: ExecutionState
        if let existing = try control.execution(stateMachineARN: machine, name: name) {
            log("found execution \(name) (\(existing.status.rawValue)): not starting it again")
            state = existing
        } else {
            let payload = Payload(bucket: target.resultsBucket, fileLimit: c.fileLimit, batchSize: c.batchSize,
                                  resultPath: resultPath, dataBucket: target.dataBucket, dataPrefix: dataPrefix,
                                  worldSize: c.worldSize)
            let arn = try control.startExecution(stateMachineARN: machine, name: name, input: payload.encoded())
            log("started execution \(name)")
            state = ExecutionState(arn: arn, status: .running, startDate: Date().timeIntervalSince1970)
        }
        let started = MonotonicClock.now()
        var delay = poll.initial
        while !state.isFinished {
            try wait(delay, execution: state.arn)
            delay = min(delay * 1.5, poll.maximum)
            state = try control.describeExecution(arn: state.arn)
            if !state.isFinished, MonotonicClock.now() - started > executionTimeoutSeconds {
                throw AWSSweepError.executionTimeout(execution: state.arn, seconds: executionTimeoutSeconds)
            }
        }
        finished += 1
        return (state, name, resultPath)
    }

    /// Sleeps in short slices so Ctrl-C is answered within 0.1 s.
    private func wait(_ seconds: Double, execution: String) throws {
        let end = MonotonicClock.now() + seconds
        repeat {
            if isInterrupted() { throw AWSSweepError.interrupted(execution: execution, finished: finished) }
            Thread.sleep(forTimeInterval: min(0.1, max(end - MonotonicClock.now(), 0)))
        } while MonotonicClock.now() < end
    }
}
