import AstroMAE
import CosmicSupport
import Foundation

/// What the sweep ran on (`environment.json`): enough to judge whether two
/// result sets are comparable. Holds no host name or user name.
public struct EnvironmentInfo: Codable, Equatable, Sendable {
    public var cpuModel: String
    public var cores: Int
    public var openBLASConfig: String
    public var openBLASCore: String
    /// OpenBLAS's default thread count in the sweep process (ranks set their own).
    public var openBLASThreads: Int
    public var swiftVersion: String
    /// `git rev-parse HEAD`, with "-dirty" when tracked files were modified.
    public var gitCommit: String
    /// ISO 8601, UTC.
    public var date: String
    public var os: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cores, openBLASConfig = "openblas_config", openBLASCore = "openblas_corename"
        case openBLASThreads = "openblas_threads", swiftVersion = "swift_version", gitCommit = "git_commit", date, os
    }

    public init(cpuModel: String, cores: Int, openBLASConfig: String, openBLASCore: String, openBLASThreads: Int,
                swiftVersion: String, gitCommit: String, date: String, os: String) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.openBLASConfig = openBLASConfig
        self.openBLASCore = openBLASCore
        self.openBLASThreads = openBLASThreads
        self.swiftVersion = swiftVersion
        self.gitCommit = gitCommit
        self.date = date
        self.os = os
    }

    /// Reads this machine: /proc/cpuinfo, OpenBLAS, `swift --version`,
    /// `git rev-parse HEAD` (in the current directory), the clock.
    public static func collect() -> EnvironmentInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown"
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            break
        }
        let swift = run(["swift", "--version"]).flatMap { $0.split(separator: "\n").first.map(String.init) } ?? "unknown"
        var commit = run(["git", "rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines)
        if commit?.count == 40, let changes = run(["git", "status", "--porcelain", "--untracked-files=no"]),
           !changes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            commit! += "-dirty"
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let release = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return EnvironmentInfo(
            cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            openBLASConfig: BLAS.config, openBLASCore: BLAS.coreName, openBLASThreads: BLAS.threads,
            swiftVersion: swift, gitCommit: commit.flatMap { $0.count >= 40 ? $0 : nil } ?? "unknown",
            date: formatter.string(from: Date()), os: release.map { "Linux \($0)" } ?? "unknown")
    }

    /// Pretty JSON with sorted keys.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    public static func read(_ url: URL) throws -> EnvironmentInfo {
        do {
            return try JSONDecoder().decode(EnvironmentInfo.self, from: Data(contentsOf: url))
        } catch {
            throw SweepError.badResults(path: url.path, reason: "\(error)")
        }
    }

    /// Standard output of a command found on PATH, nil if it fails.
    private static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
