import Foundation

/// A one-line progress display (`label 3/11 · ETA 42 s`) redrawn in place on
/// a terminal, and silent when stdout is a file or pipe.
public final class TerminalProgress: @unchecked Sendable {
    private let label: String
    private let start = MonotonicClock.now()
    private let enabled: Bool
    private var drawn = false

    public init(label: String, enabled: Bool = isatty(STDOUT_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    /// Redraws the line; the ETA extrapolates the mean time per finished item.
    public func update(done: Int, total: Int) {
        guard enabled else { return }
        let elapsed = MonotonicClock.now() - start
        var line = "\(label) \(done)/\(total) · \(Self.duration(elapsed)) elapsed"
        if done > 0, done < total {
            line += " · ETA \(Self.duration(elapsed / Double(done) * Double(total - done)))"
        }
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// Ends the line so later output starts on a fresh one.
    public func finish() {
        if enabled, drawn { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 90 ? String(format: "%.0f s", seconds) : String(format: "%.0f min %.0f s", (seconds / 60).rounded(.down),
                                                                    seconds.truncatingRemainder(dividingBy: 60))
    }
}
