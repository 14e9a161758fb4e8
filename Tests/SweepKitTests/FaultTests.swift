import CAIWorkload
import Foundation
import SweepKit
import XCTest

/// Faults injected into real sweeps of the built binary: SIGKILL of the
/// whole sweep at random moments, SIGKILL of one rank, a full disk under the
/// results, a rank over its memory limit, a corrupted partition. After each,
/// nothing already written is lost or half-written, and the sweep resumes to
/// the rows an uninterrupted sweep gives.
final class FaultTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory(self)
    }

    func binary() throws -> URL {
        try EndToEndTests.builtBinary()
    }

    /// Partitions of `samples` samples each under `<root>/data/25MB/`.
    func data(files: Int = 3, samples: Int = 24) throws -> URL {
        let directory = root.appendingPathComponent("data")
        let generator = PartitionGenerator(partition: .mb25, seed: 9)
        for index in 1...files {
            try generator.generateFile(index: index, sampleCount: samples,
                                       to: directory.appendingPathComponent("25MB/\(index).safetensors"))
        }
        return directory
    }

    /// Three configurations × 2 repetitions × 3 ranks over `data`.
    func spec(name: String, data: URL, batches: [Int] = [8, 16, 24], out: URL? = nil) throws -> URL {
        let url = root.appendingPathComponent("\(name).toml")
        try """
            name = "\(name)"
            partitions = ["25MB"]
            batch_sizes = [\(batches.map(String.init).joined(separator: ", "))]
            file_limits = [3]
            repetitions = 2
            measure = 3
            data = "\(data.path)"
            out = "\((out ?? root.appendingPathComponent("results/\(name)")).path)"
            cache = "\(root.appendingPathComponent("cache-\(name)").path)"
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Every result file present parses (an interrupt may come before some exist).
    func checkParses(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) {
        let ranks = directory.appendingPathComponent("ranks.csv"), summary = directory.appendingPathComponent("summary.csv")
        if FileManager.default.fileExists(atPath: ranks.path) {
            XCTAssertNoThrow(try RankRecord.records(in: try CSVTable.read(ranks), path: ranks.path), file: file, line: line)
        }
        if FileManager.default.fileExists(atPath: summary.path) {
            XCTAssertNoThrow(try SummaryRow.read(summary), file: file, line: line)
        }
        for name in ["summary.json", "environment.json"] {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(contentsOf: url)), "\(name) does not parse",
                             file: file, line: line)
        }
    }

    /// The identity of every row (configuration, repetition, rank, status) of
    /// a finished sweep, after checking every file parses and no row is there twice.
    func rows(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        checkParses(directory, file: file, line: line)
        for name in ["ranks.csv", "summary.csv", "summary.json", "environment.json", "tables.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path),
                          "\(name) missing", file: file, line: line)
        }
        let table = try CSVTable.read(directory.appendingPathComponent("ranks.csv"))
        let keys = table.records.map { "\($0["config_id"] ?? "")/\($0["repetition"] ?? "")/\($0["rank"] ?? "")/\($0["status"] ?? "")" }
        XCTAssertEqual(Set(keys).count, keys.count, "a row appears twice: \(keys)", file: file, line: line)
        return keys.sorted()
    }

    func testSweepKilledAtRandomMomentsResumesToTheSameRows() throws {
        let binary = try binary()
        let data = try data()
        let reference = try spec(name: "reference", data: data)
        let started = Date()
        XCTAssertEqual(try Child.run(binary, ["sweep", reference.path]).status, 0)
        let full = Date().timeIntervalSince(started)
        let expected = try rows(root.appendingPathComponent("results/reference"))
        XCTAssertEqual(expected.count, 18)

        var random = SplitMix(seed: 20_261_201)
        var kills = 0, interrupted = 0
        for instance in 1...5 {
            let spec = try spec(name: "killed\(instance)", data: data)
            for _ in 1...4 {
                let child = try Child.start(binary, ["sweep", spec.path])
                usleep(UInt32(random.unit() * full * 0.8 * 1e6))
                if child.killGroup() { interrupted += 1 }
                kills += 1
                checkParses(root.appendingPathComponent("results/killed\(instance)"))
            }
            let resumed = try Child.run(binary, ["sweep", spec.path])
            XCTAssertEqual(resumed.status, 0, resumed.output)
            XCTAssertEqual(try rows(root.appendingPathComponent("results/killed\(instance)")), expected)
        }
        XCTAssertEqual(kills, 20)
        XCTAssertGreaterThan(interrupted, 10, "most kills must land while the sweep runs")
        print("fault: sweep SIGKILLed \(kills) times (\(interrupted) mid-run), 5 resumes, rows lost 0")
    }

    func testKilledRankIsAFailedRowAndTheOthersFinish() throws {
        let binary = try binary()
        let data = try data(files: 3, samples: 400)
        let spec = try spec(name: "rankkill", data: data, batches: [8])
        let child = try Child.start(binary, ["sweep", spec.path])
        var killed = false
        let deadline = Date().addingTimeInterval(60)
        while !killed, Date() < deadline {
            if let pid = Child.processes(matching: ".1.task.json").first {
                kill(pid, SIGKILL)
                killed = true
            }
            usleep(2_000)
        }
        XCTAssertTrue(killed, "rank 1 never started")
        let outcome = child.wait()
        XCTAssertEqual(outcome.status, 1, outcome.output)
        XCTAssertTrue(outcome.output.contains("killed by signal 9"), outcome.output)
        let table = try CSVTable.read(root.appendingPathComponent("results/rankkill/ranks.csv")).records
        let first = table.filter { $0["repetition"] == "1" }
        XCTAssertEqual(first.map { $0["status"] ?? "" }, ["ok", "failed", "ok"])
        XCTAssertTrue(first[1]["error"]?.contains("killed by signal 9") ?? false, "\(first[1])")
        XCTAssertTrue(table.filter { $0["repetition"] == "2" }.allSatisfy { $0["status"] == "ok" })
    }

    func testFullDiskKeepsWrittenResultsAndResumes() throws {
        let binary = try binary()
        let data = try data()
        let reference = try spec(name: "diskref", data: data)
        XCTAssertEqual(try Child.run(binary, ["sweep", reference.path]).status, 0)
        let expected = try rows(root.appendingPathComponent("results/diskref"))

        let mount = root.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try Child.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.path])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mounted.output)") }
        defer { _ = try? Child.run(URL(fileURLWithPath: "/bin/umount"), [mount.path]) }
        let out = mount.appendingPathComponent("results")
        let spec = try spec(name: "disk", data: data, out: out)
        let child = try Child.start(binary, ["sweep", spec.path])
        // Fill the disk once the first configuration's files are all written (tables.md is the last).
        let ranks = out.appendingPathComponent("ranks.csv"), tables = out.appendingPathComponent("tables.md")
        while !FileManager.default.fileExists(atPath: tables.path), child.isRunning { usleep(1_000) }
        let before = try Data(contentsOf: ranks)
        let filler = mount.appendingPathComponent("filler")
        Child.fill(filler)
        let outcome = child.wait()
        XCTAssertNotEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.lowercased().contains("no space left"), outcome.output)
        // What was written before the disk filled is intact and readable.
        let after = try Data(contentsOf: ranks)
        XCTAssertTrue(after == before || after.count > before.count, "ranks.csv shrank or was damaged")
        checkParses(out)
        try FileManager.default.removeItem(at: filler)
        let resumed = try Child.run(binary, ["sweep", spec.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try rows(out), expected)
    }

    func testRankOverItsMemoryLimitFailsAsOutOfMemory() throws {
        let binary = try binary()
        let data = try data(files: 1, samples: 64)
        let payload = root.appendingPathComponent("payload.json")
        try """
            {"bucket": "results", "file_limit": 1, "batch_size": 64, "object_type": "folder",
             "S3_object_name": "x", "script": "x.py", "result_path": "oom", "data_bucket": "data",
             "data_prefix": "25MB"}
            """.write(to: payload, atomically: true, encoding: .utf8)
        _ = data
        let outcome = try Child.run(binary, ["run", payload.path, "--root", root.path, "--memory-limit", "40"])
        XCTAssertEqual(outcome.status, 1, outcome.output)
        XCTAssertTrue(outcome.output.contains("out of memory (limit 40 MB"), outcome.output)
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: root.appendingPathComponent("results/oom/0.json"))) as? [String: Any]
        XCTAssertEqual(json?["status"] as? String, "failed")
        XCTAssertTrue((json?["stderr_tail"] as? String ?? "").contains("out of memory (limit 40 MB"))
    }

    func testCorruptedPartitionsAreNamedOrRegenerated() throws {
        let binary = try binary()
        // A truncated partition in a data folder: its rows fail naming the file.
        let data = try data()
        let first = try spec(name: "corrupt", data: data, batches: [8])
        XCTAssertEqual(try Child.run(binary, ["sweep", first.path]).status, 0)
        let second = data.appendingPathComponent("25MB/2.safetensors")
        let bytes = try Data(contentsOf: second)
        try bytes.prefix(bytes.count / 2).write(to: second)
        let again = try spec(name: "corrupt2", data: data, batches: [8])
        let outcome = try Child.run(binary, ["sweep", again.path])
        XCTAssertEqual(outcome.status, 1, outcome.output)
        let table = try CSVTable.read(root.appendingPathComponent("results/corrupt2/ranks.csv")).records
        XCTAssertEqual(table.map { $0["status"] ?? "" }, ["ok", "failed", "ok", "ok", "failed", "ok"])
        XCTAssertTrue(table[1]["error"]?.contains("2.safetensors") ?? false, "\(table[1])")

        // A flipped byte in a cached synthetic partition is detected and the file regenerated.
        let synthetic = root.appendingPathComponent("synthetic.toml")
        try """
            name = "synthetic"
            partitions = ["25MB"]
            batch_sizes = [64]
            data_sizes = ["0.001GB"]
            repetitions = 1
            measure = 1
            out = "\(root.appendingPathComponent("results/synthetic").path)"
            cache = "\(root.appendingPathComponent("cache-synthetic").path)"
            """.write(to: synthetic, atomically: true, encoding: .utf8)
        XCTAssertEqual(try Child.run(binary, ["sweep", synthetic.path]).status, 0)
        let cached = try XCTUnwrap(FileManager.default.enumerator(atPath: root.appendingPathComponent("cache-synthetic/partitions").path)?
            .compactMap { $0 as? String }.first { $0.hasSuffix(".safetensors") })
        let cachedURL = root.appendingPathComponent("cache-synthetic/partitions").appendingPathComponent(cached)
        let resolved = cachedURL.resolvingSymlinksInPath()
        var content = try Data(contentsOf: resolved)
        let original = content
        content[content.count - 100] ^= 0xFF
        try content.write(to: resolved)
        try FileManager.default.removeItem(at: root.appendingPathComponent("results/synthetic"))
        let rerun = try Child.run(binary, ["sweep", synthetic.path])
        XCTAssertEqual(rerun.status, 0, rerun.output)
        XCTAssertEqual(try Data(contentsOf: resolved), original, "the corrupted cache file must be regenerated")
    }
}

/// A child process of the test, in its own process group.
final class Child {
    let pid: pid_t
    let log: URL
    /// The raw wait status once reaped.
    private var reaped: Int32?

    init(pid: pid_t, log: URL) {
        self.pid = pid
        self.log = log
    }

    /// Reaps the child if it has exited (or, with `block`, once it does).
    private func reap(block: Bool) {
        guard reaped == nil else { return }
        var status: Int32 = 0
        if waitpid(pid, &status, block ? 0 : WNOHANG) == pid { reaped = status }
    }

    static func start(_ binary: URL, _ arguments: [String]) throws -> Child {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString).log")
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([binary.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary.path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        return Child(pid: pid, log: log)
    }

    static func run(_ binary: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try start(binary, arguments).wait()
    }

    var isRunning: Bool {
        reap(block: false)
        return reaped == nil
    }

    /// SIGKILLs the child and everything it started; true when it was still running.
    func killGroup() -> Bool {
        let running = isRunning
        kill(-pid, SIGKILL)
        reap(block: true)
        return running
    }

    func wait() -> (status: Int32, output: String) {
        reap(block: true)
        let status = reaped ?? 0
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : -(status & 0x7F), output)
    }

    /// Pids of processes whose command line contains `text`.
    static func processes(matching text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: raw, as: UTF8.self).contains(text) ? pid : nil
        }
    }

    /// Writes zeros to `url` until the file system is full.
    static func fill(_ url: URL) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        _ = block.withUnsafeBytes { write(fd, $0.baseAddress, 1) }
        var one: UInt8 = 0
        while write(fd, &one, 1) > 0 {}
    }
}

/// A small seeded generator for reproducible kill moments.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
