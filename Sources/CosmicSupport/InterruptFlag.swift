import Foundation

/// Ctrl-C as a flag the sweep polls: the first SIGINT sets it (so polling
/// stops cleanly and says how to resume), a second one ends the process.
public enum InterruptFlag {
    private static let state = Flag()

    /// Installs the SIGINT handler (once per process).
    public static func install() {
        signal(SIGINT) { _ in
            if InterruptFlag.state.test() { _exit(130) }
            InterruptFlag.state.set()
        }
    }

    public static var isSet: Bool { state.test() }

    /// A lock-free flag a signal handler may set.
    private final class Flag: @unchecked Sendable {
        private let value = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)

        init() { value.initialize(to: 0) }

        func set() { value.pointee = 1 }

        func test() -> Bool { value.pointee != 0 }
    }
}
