import Foundation
import XCTest
@testable import LambdaRuntime

/// scripts/aws-harness/fake_runtime_api.py run as a child process, and the
/// test's side of its control interface.
final class FakeRuntimeAPIProcess: @unchecked Sendable {
    struct ErrorBody: Decodable, Equatable {
        var errorMessage: String?
        var errorType: String?
        var stackTrace: [String]?
    }

    struct Timing: Decodable {
        var enqueueToNextMs: Double?
        var nextToAnswerMs: Double?
        var totalMs: Double?
    }

    /// One invocation's outcome as the fake saw it.
    struct Result: Decodable {
        var status: String
        var requestId: String?
        var body: String?
        var errorType: String?
        var errorBody: ErrorBody?
        var deadlineMs: Int64?
        var msBeforeDeadline: Int64?
        var timing: Timing?
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let scriptPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/aws-harness/fake_runtime_api.py").path

    let address: String
    private let process: Process
    private let stdin: Pipe
    private let control = RuntimeHTTPTransport()

    private init(address: String, process: Process, stdin: Pipe) {
        self.address = address
        self.process = process
        self.stdin = stdin
    }

    /// Starts the fake and waits for its `{"port": ..., "address": ...}` line.
    static func start() throws -> FakeRuntimeAPIProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptPath]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start python3 for the fake Runtime API \(scriptPath): \(error)")
        }
        let line = Locked(Data())
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let reader = stdout.fileHandleForReading
            while true {
                let chunk = reader.availableData
                let complete = line.withLock { data -> Bool in
                    data.append(chunk)
                    return chunk.isEmpty || data.contains(UInt8(ascii: "\n"))
                }
                if complete { break }
            }
            done.signal()
        }
        struct Ready: Decodable { var address: String }
        let ready = done.wait(timeout: .now() + 15) == .success
            ? line.withLock { try? JSONDecoder().decode(Ready.self, from: $0) } : nil
        guard let ready else {
            process.terminate()
            let text = String(decoding: line.withLock { $0 }, as: UTF8.self)
            throw Failure(description: "python3 \(scriptPath) did not print its address (is python3 >= 3.8 installed?); stdout: \"\(text)\"")
        }
        return FakeRuntimeAPIProcess(address: ready.address, process: process, stdin: stdin)
    }

    /// Queues an event and waits for the worker's answer (or the deadline).
    func invoke(
        _ payload: String, timeoutMs: Int = 10_000, headers: [String: String] = [:], omitHeaders: [String] = []
    ) async throws -> Result {
        let request: [String: Any] = [
            "payload": payload, "timeoutMs": timeoutMs, "headers": headers, "omitHeaders": omitHeaders,
        ]
        let body = try JSONSerialization.data(withJSONObject: request)
        return try await call(.post, "/_control/invoke", body: body, timeout: .milliseconds(timeoutMs + 10_000))
    }

    /// The init error the worker posted, if any.
    func initError() async throws -> Result {
        try await call(.get, "/_control/init-error", body: nil, timeout: .seconds(10))
    }

    /// Closes the fake's stdin, which stops it, and waits for it to exit.
    func stop() async {
        try? stdin.fileHandleForWriting.close()
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
        }
        await control.shutdown()
    }

    private func call<Value: Decodable>(
        _ method: RuntimeHTTPTransport.Method, _ path: String, body: Data?, timeout: Duration
    ) async throws -> Value {
        let response = try await control.send(
            method, "http://\(address)\(path)", body: body, maxBodyBytes: 64 * 1024 * 1024, timeout: timeout)
        guard response.status == 200 else {
            throw Failure(description: "fake \(path) answered HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        return try JSONDecoder().decode(Value.self, from: response.body)
    }
}

/// Runs `body` against a fresh fake, stopping the fake however `body` ends.
func withFakeRuntimeAPI<Value>(_ body: (FakeRuntimeAPIProcess) async throws -> Value) async throws -> Value {
    let fake = try FakeRuntimeAPIProcess.start()
    do {
        let value = try await body(fake)
        await fake.stop()
        return value
    } catch {
        await fake.stop()
        throw error
    }
}
