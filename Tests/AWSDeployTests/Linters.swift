import Foundation

/// Runs the PyPI linters the template is checked with. A missing linter is a
/// test failure naming the install command, never a skip: an unchecked
/// template must not pass as a checked one.
enum Linters {
    struct Result {
        let status: Int32
        let output: String
    }

    static let cfnLintTool = (command: "cfn-lint", install: "pip install cfn-lint==1.51.0")
    static let statelintTool = (command: "statelint", install: "pip install statelint==3.1.0")

    /// `cfn-lint` over several templates in one run (it takes ~10 s to start),
    /// returning each file's findings (message lines), keyed by name. A
    /// finding that names no file is kept under "". Status bit 1 (cfn-lint
    /// itself failed) is an error.
    static func cfnLint(_ templates: [(name: String, text: String)]) throws -> [String: [String]] {
        let result = try run(cfnLintTool, arguments: [], files: templates)
        guard result.status & 1 == 0 else {
            throw LinterFailure(message: "cfn-lint failed (status \(result.status)): \(result.output)")
        }
        var findings: [String: [String]] = [:]
        for block in result.output.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").map(String.init)
            guard let location = lines.last else { continue }
            let file = templates.map(\.name).first { location.contains("/\($0):") } ?? ""
            findings[file, default: []].append(lines.joined(separator: "\n"))
        }
        return findings
    }

    /// `statelint --ignore=FLOAT FILE`. FLOAT is ignored because statelint
    /// otherwise demands `BackoffRate: 2.0` where AWS accepts the integer.
    static func statelint(_ definition: String) throws -> Result {
        try run(statelintTool, arguments: ["--ignore=FLOAT"], files: [("definition.json", definition)])
    }

    static func run(_ tool: (command: String, install: String), arguments: [String],
                    files: [(name: String, text: String)]) throws -> Result {
        guard let executable = locate(tool.command) else {
            throw LinterFailure(message: "\(tool.command) is not on PATH; install it with `\(tool.install)`")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("awsdeploy-lint-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for file in files {
            let url = directory.appendingPathComponent(file.name)
            try Data(file.text.utf8).write(to: url)
            paths.append(url.path)
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + paths
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    static func locate(_ command: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(command)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}

/// Thrown (so the test fails) when a linter is missing or broke.
struct LinterFailure: Error, CustomStringConvertible, LocalizedError {
    let message: String
    var description: String { message }
    var errorDescription: String? { message }
}
