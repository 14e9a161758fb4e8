import Foundation

/// Restarts this process with a changed environment. Needed for settings a
/// library reads once at load time, such as OpenBLAS's `OPENBLAS_CORETYPE`
/// kernel choice.
public enum Reexec {
    /// Set in the restarted process so it does not restart again.
    public static let marker = "COSMICBENCH_REEXECUTED"

    /// True if this process is already the restarted one.
    public static var isReexecuted: Bool { ProcessInfo.processInfo.environment[marker] != nil }

    /// Replaces this process with the same binary and arguments, applying
    /// `changes` (nil removes a variable). Returns only if exec fails.
    public static func restart(changing changes: [String: String?]) throws -> Never {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in changes { environment[key] = value }
        environment[marker] = "1"
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        throw ReexecError.execFailed(path: path, reason: String(cString: strerror(errno)))
    }
}

/// The restart could not happen.
public enum ReexecError: Error, CustomStringConvertible {
    case execFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .execFailed(path, reason): return "cannot restart \(path): \(reason)"
        }
    }
}
