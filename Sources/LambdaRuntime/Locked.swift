import Foundation

/// A value behind a lock, for the few pieces of state that the runtime's
/// timer, handler thread and loop touch concurrently. (`Synchronization.Mutex`
/// needs macOS 15; the package still supports macOS 13.)
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
