import CosmicSupport
import Foundation

/// The local executor: runs ranks as child processes (`cosmicbench rank
/// TASK.json`), `concurrency` at a time, so that each rank's peak resident
/// memory is its own (what Lambda reports as Max Memory Used) and a crash
/// or hang in one rank cannot take the others down.
///
/// Children read and write through `storage` (described to them by
/// `storageConfiguration`); each writes its own result and reports it on its
/// standard output, so the launcher needs no read access to the results. The
/// launcher writes a result only for a rank that was idle, could not start,
/// was killed at the timeout or died without one.
public struct RankLauncher: RankExecutor, Sendable {
    /// The `cosmicbench` binary.
    public var executable: URL
    /// Ranks running at once.
    public var concurrency: Int
    /// A rank still running after this many seconds is killed (SIGKILL).
    public var timeoutSeconds: Double
    /// Extra environment for the children (e.g. OPENBLAS_CORETYPE).
    public var environment: [String: String]
    /// A rank whose resident memory exceeds this many MiB is killed
    /// (SIGKILL) and recorded as out of memory, as Lambda stops a function
    /// that outgrows its memory size; nil for no limit.
    public var memoryLimitMB: Int?
    /// Polled while ranks run: true kills the running children (SIGKILL),
    /// starts no more and records them as failed "interrupted" (Ctrl-C).
    public var isInterrupted: (@Sendable () -> Bool)?
    /// The storage the jobs name, as the children open it.
    public var storageConfiguration: StorageConfiguration
    /// The same storage, opened here to read results back.
    public var storage: ObjectStorage
    /// Local folder for the task files and each rank's stderr log, in
    /// `<bucket>/<result_path>/` below it.
    public var scratchDirectory: URL

    public init(storage: ObjectStorage, storageConfiguration: StorageConfiguration, scratchDirectory: URL,
                executable: URL = RankLauncher.currentExecutable, concurrency: Int = 1, timeoutSeconds: Double = 3600,
                environment: [String: String] = [:]) {
        self.storage = storage
        self.storageConfiguration = storageConfiguration
        self.scratchDirectory = scratchDirectory
        self.executable = executable
        self.concurrency = max(1, concurrency)
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
        self.memoryLimitMB = nil
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
        /// The child's standard output: the result it wrote, so the launcher
        /// needs no read access to the results.
        let reportURL: URL
        var killed = false
        /// Resident MiB when the memory limit was hit, nil otherwise.
        var overMemoryMB: Double?
        var lastMemoryCheck = 0.0
    }

    /// Runs every job and returns one result per job, in job order. Ranks
    /// with no files are recorded as idle without starting a process.
    public func run(_ jobs: [RankJob], progress: ((_ done: Int, _ total: Int) -> Void)?) -> [RankResult] {
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
            if let isInterrupted, isInterrupted() {
                for (index, child) in running {
                    kill(child.pid, SIGKILL)
                    var status: Int32 = 0
                    _ = waitpid(child.pid, &status, 0)
                    finish(index, record(.failed(child.job, status: .failed, exitStatus: nil, reason: "interrupted",
                                                 processSeconds: MonotonicClock.now() - child.started), of: child.job))
                }
                running = [:]
                while let index = pending.popLast() {
                    finish(index, record(.failed(jobs[index], status: .failed, exitStatus: nil, reason: "interrupted",
                                                 processSeconds: 0), of: jobs[index]))
                }
                break
            }
            while running.count < concurrency, let index = pending.popLast() {
                let job = jobs[index]
                if job.files.isEmpty {
                    finish(index, idle(job))
                    continue
                }
                do {
                    running[index] = try spawn(job)
                } catch {
                    finish(index, record(.failed(job, status: .failed, exitStatus: nil, reason: "\(error)", processSeconds: 0), of: job))
                }
            }
            var reaped = false
            for (index, child) in running {
                var status: Int32 = 0
                let pid = waitpid(child.pid, &status, WNOHANG)
                let elapsed = MonotonicClock.now() - child.started
                if pid == child.pid {
                    running[index] = nil
                    reaped = true
                    finish(index, collect(child, status: status, seconds: elapsed))
                } else if elapsed > timeoutSeconds, !child.killed, child.overMemoryMB == nil {
                    kill(child.pid, SIGKILL)
                    running[index]?.killed = true
                } else if let limit = memoryLimitMB, child.overMemoryMB == nil,
                          elapsed - child.lastMemoryCheck >= Self.memoryCheckInterval {
                    running[index]?.lastMemoryCheck = elapsed
                    let resident = Double(ProcessStats.residentBytes(of: child.pid) ?? 0) / 1_048_576
                    if resident > Double(limit) {
                        kill(child.pid, SIGKILL)
                        running[index]?.overMemoryMB = resident
                    }
                }
            }
            if !reaped { usleep(5_000) }
        }
        return results.map { $0! }
    }

    private func spawn(_ job: RankJob) throws -> Running {
        let scratch = job.resultPath.split(separator: "/").reduce(
            scratchDirectory.appendingPathComponent(job.resultBucket, isDirectory: true)) {
            $0.appendingPathComponent(String($1), isDirectory: true)
        }
        try FileSystem.createDirectories(scratch)
        let taskURL = scratch.appendingPathComponent(".\(job.rank).task.json")
        try AtomicFile.write(try JSONEncoder().encode(RankTask(job: job, storage: storageConfiguration)), to: taskURL)
        try storage.remove(bucket: job.resultBucket, key: job.resultKey)
        let stderrURL = scratch.appendingPathComponent("\(job.rank).stderr.log")
        let reportURL = scratch.appendingPathComponent(".\(job.rank).report.json")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, reportURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let arguments = [executable.path, "rank", taskURL.path]
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
        return Running(job: job, pid: pid, started: MonotonicClock.now(), stderrURL: stderrURL, reportURL: reportURL)
    }

    /// The result the child wrote and reported, if it reported one.
    private func reported(_ child: Running) -> RankResult? {
        guard let data = try? Data(contentsOf: child.reportURL), !data.isEmpty else { return nil }
        return try? JSONDecoder().decode(RankResult.self, from: data)
    }

    private func collect(_ child: Running, status: Int32, seconds: Double) -> RankResult {
        let job = child.job
        let exited = status & 0x7F == 0
        let code = exited ? (status >> 8) & 0xFF : -(status & 0x7F)
        let stderr = Self.tail(of: child.stderrURL)
        if !child.killed, let result = reported(child), exited, code == 0 || result.status != .ok {
            return result  // the child's own measurement, or the failure it reported itself
        }
        if !child.killed, exited, code == 0 {
            return record(.failed(job, status: .failed, exitStatus: code,
                                  reason: "the rank exited 0 but left no readable result at "
                                      + storage.displayName(bucket: job.resultBucket, key: job.resultKey) + "\n" + stderr,
                                  processSeconds: seconds), of: job)
        }
        if let resident = child.overMemoryMB, let limit = memoryLimitMB {
            let reason = String(format: "out of memory (limit %d MB): killed at %.0f MB resident\n", limit, resident)
            return record(.failed(job, status: .failed, exitStatus: code, reason: reason + stderr, processSeconds: seconds),
                          of: job)
        }
        let statusKind: RankResult.Status = child.killed ? .timeout : .failed
        let reason = child.killed ? "killed after \(timeoutSeconds) s timeout\n" + stderr
            : exited ? stderr : "killed by signal \(-code)\(Self.signalName(-code))\n" + stderr
        return record(.failed(job, status: statusKind, exitStatus: code, reason: reason, processSeconds: seconds), of: job)
    }

    /// Writes a result for a rank that has none of its own (best effort: the
    /// returned value is what the caller uses).
    private func record(_ result: RankResult, of job: RankJob) -> RankResult {
        try? RankWorker.write(result, of: job, to: storage)
        return result
    }

    private func idle(_ job: RankJob) -> RankResult {
        var result = RankResult.failed(job, status: .idle, exitStatus: nil, reason: "", processSeconds: 0)
        result.stderrTail = nil
        try? RankWorker.write(result, of: job, to: storage)
        return result
    }

    /// How often a running rank's resident memory is read against the limit.
    static let memoryCheckInterval = 0.01

    /// " (SIGKILL)" and the like for the common signals.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
                                      SIGILL: "SIGILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGFPE: "SIGFPE"]
        return names[signal].map { " (\($0))" } ?? ""
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
