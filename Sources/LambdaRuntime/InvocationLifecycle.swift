/// Marks an invocation whose work was left running after its deadline
/// fired; the loop stops once it has reported the timeout, because that
/// work still holds the CPU (and could write late results).
final class InvocationLifecycle: Sendable {
    private let abandoned = Locked(false)

    init() {}

    var isAbandoned: Bool { abandoned.withLock { $0 } }

    func markAbandoned() {
        abandoned.withLock { $0 = true }
    }
}
