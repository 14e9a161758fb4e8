import Foundation

/// Progress of long work: on a terminal a bar redrawn in place
/// (`ranks [######......] 3/11 · 12 s elapsed · ETA 30 s`); when stdout is a
/// file or pipe (CI logs) one line per finished item, flushed at once.
public final class TerminalProgress: @unchecked Sendable {
    private let label: String
    private let start = MonotonicClock.now()
    private let isTerminal: Bool
    private var drawn = false
    private var lastDone = -1

    /// Cells of the bar.
    static let barWidth = 24

    public init(label: String, isTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.label = label
        self.isTerminal = isTerminal
    }

    /// Shows `done` of `total`; the ETA extrapolates the mean time per finished item.
    public func update(done: Int, total: Int) {
        let line = Self.line(label: label, done: done, total: total, elapsed: MonotonicClock.now() - start)
        if isTerminal {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
            drawn = true
        } else if done != lastDone {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        lastDone = done
    }

    /// Ends the line so later output starts on a fresh one.
    public func finish() {
        if isTerminal, drawn { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    /// The progress text (pure, for tests).
    static func line(label: String, done: Int, total: Int, elapsed: Double) -> String {
        let filled = total > 0 ? barWidth * min(done, total) / total : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        var line = "\(label) [\(bar)] \(done)/\(total) · \(duration(elapsed)) elapsed"
        if done > 0, done < total {
            line += " · ETA \(duration(elapsed / Double(done) * Double(total - done)))"
        }
        return line
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 90 ? String(format: "%.0f s", seconds) : String(format: "%.0f min %.0f s", (seconds / 60).rounded(.down),
                                                                    seconds.truncatingRemainder(dividingBy: 60))
    }
}
