import AstroMAE
import BuildInfo
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
    /// The commit the binary was built from (fixed at build time), with
    /// "-dirty" when tracked files differed from it.
    public var gitCommit: String
    /// What the binary's `--version` prints.
    public var binaryVersion: String
    /// SHA-256 of the weights file, nil for seeded weights.
    public var weightsSHA256: String?
    /// ISO 8601, UTC.
    public var date: String
    public var os: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cores, openBLASConfig = "openblas_config", openBLASCore = "openblas_corename"
        case openBLASThreads = "openblas_threads", swiftVersion = "swift_version", gitCommit = "git_commit", date, os
        case binaryVersion = "binary_version", weightsSHA256 = "weights_sha256"
    }

    public init(cpuModel: String, cores: Int, openBLASConfig: String, openBLASCore: String, openBLASThreads: Int,
                swiftVersion: String, gitCommit: String, date: String, os: String,
                binaryVersion: String = BuildInfo.versionLine, weightsSHA256: String? = nil) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.openBLASConfig = openBLASConfig
        self.openBLASCore = openBLASCore
        self.openBLASThreads = openBLASThreads
        self.swiftVersion = swiftVersion
        self.gitCommit = gitCommit
        self.date = date
        self.os = os
        self.binaryVersion = binaryVersion
        self.weightsSHA256 = weightsSHA256
    }

    /// Reads files written before `binary_version` was recorded, too.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(cpuModel: try c.decode(String.self, forKey: .cpuModel), cores: try c.decode(Int.self, forKey: .cores),
                  openBLASConfig: try c.decode(String.self, forKey: .openBLASConfig),
                  openBLASCore: try c.decode(String.self, forKey: .openBLASCore),
                  openBLASThreads: try c.decode(Int.self, forKey: .openBLASThreads),
                  swiftVersion: try c.decode(String.self, forKey: .swiftVersion),
                  gitCommit: try c.decode(String.self, forKey: .gitCommit), date: try c.decode(String.self, forKey: .date),
                  os: try c.decode(String.self, forKey: .os),
                  binaryVersion: try c.decodeIfPresent(String.self, forKey: .binaryVersion) ?? "not recorded",
                  weightsSHA256: try c.decodeIfPresent(String.self, forKey: .weightsSHA256))
    }

    /// Reads this machine: /proc/cpuinfo, OpenBLAS, `swift --version`, the
    /// commit built into this binary, the clock; `weightsSHA256` as given.
    public static func collect(weightsSHA256: String? = nil) -> EnvironmentInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown"
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            break
        }
        let swift = run(["swift", "--version"]).flatMap { $0.split(separator: "\n").first.map(String.init) } ?? "unknown"
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let release = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return EnvironmentInfo(
            cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            openBLASConfig: BLAS.config, openBLASCore: BLAS.coreName, openBLASThreads: BLAS.threads,
            swiftVersion: swift, gitCommit: BuildInfo.commitDescription,
            date: formatter.string(from: Date()), os: release.map { "Linux \($0)" } ?? "unknown",
            binaryVersion: BuildInfo.versionLine, weightsSHA256: weightsSHA256)
    }

    /// Pretty JSON with sorted keys.
    public func encoded() throws -> String {
        try JSONFormat.string(self)
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
