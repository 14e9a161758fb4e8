import Benchmark
#if canImport(Glibc)
import Glibc
#endif

/// Metrics, thresholds and the measuring loop shared by every suite of the
/// gate (this file is linked into each benchmark target's directory).
///
/// Thresholds come from the run-to-run spread measured on the 2-core CI
/// machine (Benchmarks/README.md, "Thresholds"). Allocation counts and peak
/// RSS are (near-)deterministic and gated tightly on the median (p50).
/// Time-derived metrics move with the machine's load and are gated loosely
/// on the best iteration (p0; for larger-is-better metrics package-benchmark
/// orders percentiles so p0 is the largest): load only ever adds time, so
/// the best iteration moved half as much between runs as the median did.
///
/// Peak memory is the custom `peak_resident_kb`, not package-benchmark's
/// `peakMemoryResident`: that one is sampled every 10 ms by a thread that
/// itself calls malloc, which made `mallocCountTotal` grow with wall time
/// (~4 mallocs per 10 ms: 640 "allocations" in a 1.6 s forward pass that
/// makes none) and missed peaks shorter than the sampling interval. The
/// kernel's high-water mark (VmHWM), reset before each iteration, is exact
/// and costs nothing inside the measured region.
enum GateConfiguration {
    /// Samples per second of the measured call (larger is better).
    static let samplesPerSecond = BenchmarkMetric.custom("samples_per_second", polarity: .prefersLarger,
                                                         useScalingFactor: false)
    /// sgemm speed in MFLOP/s (an integer metric, so MFLOP/s keeps 3 more digits than GFLOP/s).
    static let mflops = BenchmarkMetric.custom("mflops", polarity: .prefersLarger, useScalingFactor: false)
    /// The process's peak resident set during the iteration, in KiB (VmHWM).
    static let peakResidentKB = BenchmarkMetric.custom("peak_resident_kb", polarity: .prefersSmaller,
                                                       useScalingFactor: false)

    /// Percent the best iteration of a time-derived metric (wall clock,
    /// throughput, samples/s, MFLOP/s) may get worse.
    static let timeTolerance = 35.0
    /// The same for calls made mostly of system calls and page faults
    /// (opening and mapping partition files): whole runs of those came out
    /// 70 % slower than others on this VM, best iteration included.
    static let ioTimeTolerance = 100.0
    /// KiB the median peak RSS may grow (absolute: the spread was a few
    /// hundred KiB whatever the process size).
    static let memoryAllowanceKB = 1024
    /// Percent the median malloc count may grow (workload code, which
    /// allocates through Foundation and varies by a call or two).
    static let mallocTolerance = 1.0

    /// What one benchmark reports besides wall clock, mallocs and peak RSS.
    enum Rate {
        /// Nothing: built-in throughput only (calls well under 10 ms).
        case none
        /// samples/s for `samples` per call; drops built-in throughput when
        /// `slow` (an integer calls/s is too coarse for calls near a second).
        case samples(Int, slow: Bool)
        /// MFLOP/s of `flops` per call.
        case flops(Double)

        var metrics: [BenchmarkMetric] {
            switch self {
            case .none: return [.throughput]
            case let .samples(_, slow): return slow ? [samplesPerSecond] : [.throughput, samplesPerSecond]
            case .flops: return [.throughput, mflops]
            }
        }
    }

    /// `mallocAllowance`: allocations the median may change by, for code
    /// that allocates nothing (the engine: 0), where a relative check cannot
    /// see growth from a zero baseline; nil gates mallocs relatively.
    static func thresholds(_ metrics: [BenchmarkMetric], mallocAllowance: Int?,
                           timeTolerance: Double) -> [BenchmarkMetric: BenchmarkThresholds] {
        var result: [BenchmarkMetric: BenchmarkThresholds] = [:]
        for metric in metrics {
            switch metric {
            case .mallocCountTotal:
                result[metric] = mallocAllowance.map { BenchmarkThresholds(absolute: [.p50: $0]) }
                    ?? BenchmarkThresholds(relative: [.p50: mallocTolerance])
            case peakResidentKB:
                result[metric] = BenchmarkThresholds(absolute: [.p50: memoryAllowanceKB])
            default:
                result[metric] = BenchmarkThresholds(relative: [.p0: timeTolerance])
            }
        }
        return result
    }

    /// A configuration with the gate's metrics and thresholds.
    static func make(_ rate: Rate = .none, maxDuration: Duration, maxIterations: Int, warmupIterations: Int = 1,
                     mallocAllowance: Int? = nil, timeTolerance: Double = timeTolerance) -> Benchmark.Configuration {
        let metrics = [.wallClock, .mallocCountTotal, peakResidentKB] + rate.metrics
        return Benchmark.Configuration(
            metrics: metrics,
            warmupIterations: warmupIterations,
            maxDuration: maxDuration,
            maxIterations: maxIterations,
            thresholds: thresholds(metrics, mallocAllowance: mallocAllowance, timeTolerance: timeTolerance))
    }

    /// Runs one iteration of `body` as the measured region and records the
    /// custom metrics of `rate` and the iteration's peak RSS.
    static func measure(_ benchmark: Benchmark, _ rate: Rate, _ body: () throws -> Void) rethrows {
        ResidentMemory.resetPeak()
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        try body()
        let seconds = (ContinuousClock.now - start).seconds
        benchmark.stopMeasurement()
        benchmark.measurement(peakResidentKB, ResidentMemory.peakKB())
        switch rate {
        case .none: break
        case let .samples(count, _): benchmark.measurement(samplesPerSecond, Int((Double(count) / seconds).rounded()))
        case let .flops(flops): benchmark.measurement(mflops, Int((flops / seconds / 1e6).rounded()))
        }
    }
}

/// The kernel's record of this process's peak resident set, read and reset
/// with plain system calls into a fixed buffer (no allocation).
enum ResidentMemory {
    nonisolated(unsafe) private static let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 8192)
    private static let key = Array("VmHWM:".utf8)

    /// Sets VmHWM back to the current RSS (`echo 5 > /proc/self/clear_refs`).
    static func resetPeak() {
        #if os(Linux)
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        var five: UInt8 = 0x35
        _ = write(fd, &five, 1)
        close(fd)
        #endif
    }

    /// VmHWM in KiB, 0 where /proc is not available.
    static func peakKB() -> Int {
        #if os(Linux)
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let n = read(fd, buffer, 8191)
        guard n > 0 else { return 0 }
        var i = 0
        while i + key.count < n {
            var matches = i == 0 || buffer[i - 1] == UInt8(ascii: "\n")
            var j = 0
            while matches && j < key.count {
                matches = buffer[i + j] == key[j]
                j += 1
            }
            if matches {
                var k = i + key.count, value = 0
                while k < n && (buffer[k] == UInt8(ascii: " ") || buffer[k] == UInt8(ascii: "\t")) { k += 1 }
                while k < n && buffer[k] >= UInt8(ascii: "0") && buffer[k] <= UInt8(ascii: "9") {
                    value = value * 10 + Int(buffer[k] - UInt8(ascii: "0"))
                    k += 1
                }
                return value
            }
            i += 1
        }
        return 0
        #else
        return 0
        #endif
    }
}

extension Duration {
    /// This duration in seconds, as a Double.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
