import CosmicSupport
import Foundation

/// A one-line progress bar on a terminal (standard output is a TTY); silent otherwise.
public final class SweepProgressBar {
    public let enabled: Bool
    private var line = ""
    private var index = 0, total = 0, id = "", eta: Double?
    /// Local sweeps count rank runs; AWS sweeps count configurations.
    private var measurements: (done: Int, total: Int)?

    public init(enabled: Bool = isatty(1) == 1) {
        self.enabled = enabled
    }

    public func handle(_ event: SweepEvent) {
        guard enabled else { return }
        switch event {
        case let .configurationStarted(index, total, id, eta):
            (self.index, self.total, self.id, self.eta) = (index, total, id, eta)
            draw("verifying")
        case let .configurationSkipped(index, total, id):
            (self.index, self.total, self.id) = (index, total, id)
            draw("already done")
        case let .generating(partition, file, samples):
            draw("generating \(partition) file \(file) (\(samples) samples)")
        case let .repetition(number, of, eta):
            self.eta = eta
            draw(number == 0 ? "warm-up" : "repetition \(number)/\(of)")
        case let .repetitionFinished(_, number, of, eta):
            self.eta = eta
            draw("repetition \(number)/\(of) done")
        case let .planned(count, reused, configurations):
            measurements = (0, count)
            draw("\(count) rank run(s) to measure for \(configurations) configuration(s), \(reused) row(s) reused")
        case let .measurementFinished(done, total, label, _, eta):
            measurements = (done, total)
            (self.id, self.eta) = (label, eta)
            draw("done")
        case let .configurationFinished(_, _, id, failure):
            if measurements != nil {
                if !failure.isEmpty { draw("\(id) FAILED RANKS: \(failure)") }
            } else {
                draw(failure.isEmpty ? "done" : "FAILED RANKS: \(failure)")
            }
        }
    }

    /// Ends the progress line.
    public func finish() {
        guard enabled, !line.isEmpty else { return }
        print("")
        line = ""
    }

    private func draw(_ status: String) {
        let width = 24
        let (done, count) = measurements ?? (max(index - 1, 0), total)
        let filled = count > 0 ? width * done / count : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let etaText = eta.map { Self.clock($0) } ?? "--:--"
        let position = measurements.map { "\($0.done)/\($0.total)" } ?? "\(index)/\(total)"
        let text = "[\(bar)] \(position) \(id)  \(status)  ETA \(etaText)"
        let padding = max(0, line.count - text.count)
        print("\r" + text + String(repeating: " ", count: padding), terminator: "")
        fflush(stdout)
        line = text
    }

    /// "04:05" or "1:02:03".
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
