import Foundation

/// Runs async `operation` to completion from synchronous code (the pipeline
/// is synchronous: ranks are processes and CPU-bound threads) and returns
/// its value or rethrows its error. Must not be called from a task on the
/// Swift concurrency pool, which it would block; the CLI's main thread and
/// a Lambda handler's dedicated thread are fine.
public func blocking<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) throws -> Value {
    let box = BlockingResult<Value>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do {
            box.result = .success(try await operation())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// The slot `blocking` hands a result across threads in (the semaphore
/// orders the write before the read).
private final class BlockingResult<Value>: @unchecked Sendable {
    var result: Result<Value, Error>?
}
