import AstroMAE
import Benchmark
import CAIWorkload
import CosmicSupport
import Foundation
import TorchPickle

/// The CAI pipeline's suites: opening partition files (generated safetensors
/// and the `.pt` fixtures of the TorchPickle tests) and one rank end to end.
/// Generated files go to a per-process temporary directory made in `setup`
/// and removed in `teardown`.
let benchmarks: @Sendable () -> Void = {
    // Partition loads are system calls and page faults: gated with the I/O tolerance.
    Benchmark.defaultConfiguration = GateConfiguration.make(maxDuration: .seconds(2), maxIterations: 200,
                                                            timeTolerance: GateConfiguration.ioTimeTolerance)
    registerPartitionBenchmarks()
    registerRankBenchmarks()
}

/// A scratch directory for one benchmark process.
final class ScratchDirectory: @unchecked Sendable {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("cosmicbench-\(label)-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The `.pt` files `scripts/make_pt_fixtures.py` wrote for the TorchPickle tests.
let torchFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Tests/TorchPickleTests/Fixtures")

/// Reads one float per page of the partition's images (and all magnitudes),
/// so a lazily mapped file is really brought into memory.
func touch(_ partition: Partition) -> Float {
    var sum: Float = 0
    let images = partition.images
    var i = 0
    while i < images.count {
        sum += images[i]
        i += 1024
    }
    for m in partition.magnitudes { sum += Float(m) }
    return sum
}

func registerPartitionBenchmarks() {
    let samples = PartitionSize.mb25.samplesPerFile
    let scratch = LockedBox<ScratchDirectory?>(nil)
    Benchmark("partition_load_safetensors_25MB") { (benchmark: Benchmark, url: URL) in
        do {
            try GateConfiguration.measure(benchmark, .none) {
                let partition = try Partition.open(url)
                precondition(partition.count == samples && partition.isZeroCopy)
                blackHole(touch(partition))
            }
        } catch {
            benchmark.error("\(error)")
        }
    } setup: {
        let dir = try ScratchDirectory("partition")
        scratch.value = dir
        let url = dir.url.appendingPathComponent("1.safetensors")
        try PartitionGenerator(partition: .mb25, seed: 20_250_108).generateFile(index: 1, sampleCount: samples, to: url)
        return url
    } teardown: {
        scratch.value?.remove()
    }

    for fixture in ["ds3", "ds2_legacy"] {
        let url = torchFixtures.appendingPathComponent("\(fixture).pt")
        Benchmark("pt_load_\(fixture)") { benchmark in
            do {
                try GateConfiguration.measure(benchmark, .none) {
                    let tensors = try TorchArchive.loadTensorDataset(at: url)
                    blackHole(try AstroTensorDataset(tensors: tensors, file: url.lastPathComponent))
                }
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    let ds3 = torchFixtures.appendingPathComponent("ds3.pt")
    Benchmark("partition_open_pt_ds3") { benchmark in
        do {
            try GateConfiguration.measure(benchmark, .none) { blackHole(touch(try Partition.open(ds3))) }
        } catch {
            benchmark.error("\(error)")
        }
    }
}

/// Samples in the rank's one file: two batches of 128, so model build, data
/// load, inference and the JSON all show.
let rankSamples = 256

func registerRankBenchmarks() {
    let rate = GateConfiguration.Rate.samples(rankSamples, slow: true)
    let configuration = GateConfiguration.make(rate, maxDuration: .seconds(8), maxIterations: 6)
    let scratch = LockedBox<ScratchDirectory?>(nil)
    Benchmark("rank_end_to_end_\(rankSamples)", configuration: configuration) { (benchmark: Benchmark, job: RankJob) in
        do {
            try GateConfiguration.measure(benchmark, rate) {
                let storage = LocalStorage(root: scratch.value!.url)
                let result = try RankWorker.run(job, storage: storage, host: .init(runtime: "local", started: MonotonicClock.now()))
                precondition(result.samples == rankSamples)
            }
        } catch {
            benchmark.error("\(error)")
        }
    } setup: {
        let dir = try ScratchDirectory("rank")
        scratch.value = dir
        let file = dir.url.appendingPathComponent("data/1.safetensors")
        try PartitionGenerator(partition: .mb25, seed: 20_250_108).generateFile(index: 1, sampleCount: rankSamples, to: file)
        return RankJob(rank: 0, worldSize: 1, dataBucket: "data", dataKeys: ["1.safetensors"], resultBucket: "out",
                       resultPath: "bench", batchSize: 128, threads: 1)
    } teardown: {
        scratch.value?.remove()
    }
}

/// A value shared between a benchmark's setup and teardown closures.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
