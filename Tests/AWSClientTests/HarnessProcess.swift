import Foundation
import XCTest

/// A Python harness script (scripts/aws-harness) run as a child process:
/// it prints one JSON line when ready, answers stdin commands with one JSON
/// line each, and exits when its stdin closes.
final class HarnessProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let installHint = "moto is required: pip install 'moto[server]==5.2.1'"
    static let startTimeout: TimeInterval = 60

    let info: [String: Any]
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errorLog: URL
    private var pending = Data()

    init(script: String, arguments: [String], environment extra: [String: String] = [:]) throws {
        let scripts = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/aws-harness")
        errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("aws-harness-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scripts.appendingPathComponent(script).path] + arguments
        process.currentDirectoryURL = scripts
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment.merging(extra) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorLog)
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run python3 for \(script): \(error). \(Self.installHint)")
        }
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.startTimeout, execute: watchdog)
        defer { watchdog.cancel() }
        var firstLine: Data?
        firstLine = Self.readLine(from: output.fileHandleForReading, pending: &pending)
        guard let line = firstLine, let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            process.waitUntilExit()
            let log = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw Failure(description: "\(script) did not start (exit \(process.terminationStatus)): \(log.suffix(2000)) — \(Self.installHint)")
        }
        info = object
    }

    /// Sends one command line and returns its JSON answer.
    func command(_ line: String) throws -> [String: Any] {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        guard let answer = Self.readLine(from: output.fileHandleForReading, pending: &pending),
              let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
        else { throw Failure(description: "no answer to '\(line)'") }
        if object["ok"] as? Bool == false { throw Failure(description: "'\(line)' refused: \(object)") }
        return object
    }

    /// Closes stdin (the harness exits on EOF), then waits, then terminates.
    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: errorLog)
    }

    func string(_ key: String) -> String { info[key] as? String ?? "" }

    private static func readLine(from handle: FileHandle, pending: inout Data) -> Data? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                return Data(line)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            pending.append(chunk)
        }
    }
}
