import CosmicSupport
import Foundation

/// Runs ranks as child processes, `jobs` at a time, so that each rank's peak
/// resident memory is its own (what Lambda reports as Max Memory Used) and a
/// crash or hang in one rank cannot take the others down.
public struct RankLauncher: Sendable {
    /// The `cosmicbench` binary; children run `cosmicbench rank JOB.json`.
    public var executable: URL
    /// Ranks running at once.
    public var concurrency: Int
    /// A rank still running after this many seconds is killed (SIGKILL).
    public var timeoutSeconds: Double
    /// Extra environment for the children (e.g. OPENBLAS_CORETYPE).
    public var environment: [String: String]

    public init(executable: URL = RankLauncher.currentExecutable, concurrency: Int = 1, timeoutSeconds: Double = 3600,
                environment: [String: String] = [:]) {
        self.executable = executable
        self.concurrency = max(1, concurrency)
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
    }

    /// This process's own binary.
    public static var currentExecutable: URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path)
    }

    private struct Running {
        let job: RankJob
        let pid: pid_t
        let started: Double
        let stderrURL: URL
        var killed = false
    }

    /// Runs every job and returns one result per job, in job order. Ranks
    /// with no files are recorded as idle without starting a process.
    public func run(_ jobs: [RankJob], progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [RankResult] {
        var results = [RankResult?](repeating: nil, count: jobs.count)
        var pending = Array(jobs.indices.reversed())
        var running: [Int: Running] = [:]
        var done = 0
        func finish(_ index: Int, _ result: RankResult) {
            results[index] = result
            done += 1
            progress?(done, jobs.count)
        }
        while !pending.isEmpty || !running.isEmpty {
            while running.count < concurrency, let index = pending.popLast() {
                let job = jobs[index]
                if job.files.isEmpty {
                    finish(index, idle(job))
                    continue
                }
                do {
                    running[index] = try spawn(job)
                } catch {
                    finish(index, failure(job, status: .failed, exit: nil, stderr: "\(error)", seconds: 0))
                }
            }
            var reaped = false
            for (index, child) in running {
                var status: Int32 = 0
                var usage = rusage()
                let pid = wait4(child.pid, &status, WNOHANG, &usage)
                let elapsed = MonotonicClock.now() - child.started
                if pid == child.pid {
                    running[index] = nil
                    reaped = true
                    finish(index, collect(child, status: status, usage: usage, seconds: elapsed))
                } else if elapsed > timeoutSeconds, !child.killed {
                    kill(child.pid, SIGKILL)
                    running[index]?.killed = true
                }
            }
            if !reaped { usleep(5_000) }
        }
        return results.map { $0! }
    }

    private func spawn(_ job: RankJob) throws -> Running {
        let directory = URL(fileURLWithPath: job.resultDirectory)
        try FileSystem.createDirectories(directory)
        let jobURL = directory.appendingPathComponent(".\(job.rank).job.json")
        try AtomicFile.write(try JSONEncoder().encode(job), to: jobURL)
        try? FileManager.default.removeItem(at: job.resultURL)
        let stderrURL = directory.appendingPathComponent("\(job.rank).stderr.log")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let arguments = [executable.path, "rank", jobURL.path]
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw RankLaunchError.spawnFailed(executable: executable.path, reason: String(cString: strerror(rc)))
        }
        return Running(job: job, pid: pid, started: MonotonicClock.now(), stderrURL: stderrURL)
    }

    private func collect(_ child: Running, status: Int32, usage: rusage, seconds: Double) -> RankResult {
        let job = child.job
        let exited = status & 0x7F == 0
        let code = exited ? (status >> 8) & 0xFF : -(status & 0x7F)
        let stderr = Self.tail(of: child.stderrURL)
        if exited, code == 0, let data = try? Data(contentsOf: job.resultURL),
           var result = try? JSONDecoder().decode(RankResult.self, from: data)
        {
            // The parent's view is authoritative for the whole process: wall
            // time from spawn to exit, CPU and peak RSS from wait4's rusage.
            result.processSeconds = seconds
            result.cpuSeconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            result.peakRSSMB = max(result.peakRSSMB, Double(usage.ru_maxrss) / 1024)
            result.caiTotalCPUMemory = result.peakRSSMB
            try? AtomicFile.write(try RankResult.encoder.encode(result), to: job.resultURL)
            return result
        }
        let statusKind: RankResult.Status = child.killed ? .timeout : .failed
        let reason = child.killed ? "killed after \(timeoutSeconds) s timeout\n" + stderr
            : exited ? stderr : "terminated by signal \(-code)\n" + stderr
        let result = failure(job, status: statusKind, exit: code, stderr: reason, seconds: seconds)
        try? AtomicFile.write(try RankResult.encoder.encode(result), to: job.resultURL)
        return result
    }

    private func failure(_ job: RankJob, status: RankResult.Status, exit: Int32?, stderr: String, seconds: Double)
        -> RankResult
    {
        .failed(rank: job.rank, worldSize: job.worldSize, files: job.files.map { URL(fileURLWithPath: $0).lastPathComponent },
                batchSize: job.batchSize, resultPath: job.resultPath, status: status, exitStatus: exit,
                stderrTail: stderr, processSeconds: seconds)
    }

    private func idle(_ job: RankJob) -> RankResult {
        var result = failure(job, status: .idle, exit: nil, stderr: "", seconds: 0)
        result.stderrTail = nil
        try? AtomicFile.write(try RankResult.encoder.encode(result), to: job.resultURL)
        return result
    }

    /// The last 2 KB of a log file.
    static func tail(of url: URL, bytes: Int = 2048) -> String {
        guard let data = try? Data(contentsOf: url) else { return "" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}

/// A rank process could not be started.
public enum RankLaunchError: Error, CustomStringConvertible {
    case spawnFailed(executable: String, reason: String)

    public var description: String {
        switch self {
        case let .spawnFailed(executable, reason): return "cannot start rank process \(executable): \(reason)"
        }
    }
}
