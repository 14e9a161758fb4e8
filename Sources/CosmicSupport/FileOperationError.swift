import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system operation in plain words: what was attempted, on
/// which path, and why ("cannot create /proc/x: permission denied"), so a
/// user can act on it without decoding Foundation's error domains.
public struct FileOperationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The verb: "create", "write", "read", "list", "remove", "replace", ...
    public let operation: String
    public let path: String
    /// Lower-case explanation, e.g. "no space left on device".
    public let reason: String
    /// The errno behind the failure, when there was one.
    public let code: Int32?

    public init(operation: String, path: String, reason: String, code: Int32? = nil) {
        self.operation = operation
        self.path = path
        self.reason = reason
        self.code = code
    }

    /// From an errno value (as set by a failed POSIX call).
    public init(operation: String, path: String, errno code: Int32) {
        self.init(operation: operation, path: path, reason: describeErrno(code), code: code)
    }

    /// From any error thrown by Foundation or the standard library.
    public init(operation: String, path: String, error: Error) {
        if let existing = error as? FileOperationError {
            self.init(operation: operation, path: path, reason: existing.reason, code: existing.code)
        } else {
            self.init(operation: operation, path: path, reason: describeIOError(error), code: posixCode(of: error))
        }
    }

    public var description: String { "cannot \(operation) \(path): \(reason)" }
}

/// `strerror` in the lower case used inside a sentence ("permission denied").
public func describeErrno(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    guard let first = text.first, text.dropFirst().first?.isLowercase ?? true else { return text }
    return first.lowercased() + text.dropFirst()
}

/// Plain words for an I/O error from Foundation (`CocoaError`, `NSError` in
/// the POSIX or Cocoa domain), a `POSIXError`, or one of our own errors,
/// without the domain and code noise of `localizedDescription`.
public func describeIOError(_ error: Error) -> String {
    if let own = error as? FileOperationError { return own.reason }
    if let posix = error as? POSIXError { return describeErrno(posix.code.rawValue) }
    if let code = posixCode(of: error) { return describeErrno(code) }
    let nsError = error as NSError
    if nsError.domain == NSCocoaErrorDomain, let reason = cocoaReasons[nsError.code] { return reason }
    if nsError.domain == NSCocoaErrorDomain || nsError.domain == NSPOSIXErrorDomain {
        return nsError.localizedDescription
    }
    return "\(error)"
}

/// The errno of a POSIX error, directly or as a Cocoa error's underlying error.
private func posixCode(of error: Error) -> Int32? {
    if let posix = error as? POSIXError { return posix.code.rawValue }
    let nsError = error as NSError
    if nsError.domain == NSPOSIXErrorDomain { return Int32(truncatingIfNeeded: nsError.code) }
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return Int32(truncatingIfNeeded: underlying.code)
    }
    return nil
}

/// Cocoa file error codes (Foundation's `CocoaError.Code`) that arrive without
/// an underlying errno, in the words `strerror` would use.
private let cocoaReasons: [Int: String] = [
    CocoaError.fileNoSuchFile.rawValue: "no such file or directory",
    CocoaError.fileReadNoSuchFile.rawValue: "no such file or directory",
    CocoaError.fileLocking.rawValue: "the file is locked",
    CocoaError.fileReadNoPermission.rawValue: "permission denied",
    CocoaError.fileWriteNoPermission.rawValue: "permission denied",
    CocoaError.fileReadInvalidFileName.rawValue: "invalid file name",
    CocoaError.fileWriteInvalidFileName.rawValue: "invalid file name",
    CocoaError.fileReadCorruptFile.rawValue: "the file is corrupt or in an unexpected format",
    CocoaError.fileReadTooLarge.rawValue: "the file is too large",
    CocoaError.fileReadInapplicableStringEncoding.rawValue: "the file is not valid text in the expected encoding",
    CocoaError.fileWriteInapplicableStringEncoding.rawValue: "the text cannot be stored in the requested encoding",
    CocoaError.fileWriteFileExists.rawValue: "file exists",
    CocoaError.fileWriteOutOfSpace.rawValue: "no space left on device",
    CocoaError.fileWriteVolumeReadOnly.rawValue: "read-only file system",
    CocoaError.fileReadUnknown.rawValue: "unknown read error",
    CocoaError.fileWriteUnknown.rawValue: "unknown write error",
]
