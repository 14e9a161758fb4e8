import CAIWorkload
import Foundation

/// A storage opened for use, with what closes it.
public struct OpenedStorage {
    public let storage: ObjectStorage
    private let close: () -> Void

    init(_ storage: ObjectStorage, close: @escaping () -> Void = {}) {
        self.storage = storage
        self.close = close
    }

    /// Releases connections (S3); local storage has nothing to close.
    public func shutdown() {
        close()
    }
}

extension StorageConfiguration {
    /// Opens the storage this describes: folders, or S3 from the standard
    /// AWS environment.
    public func open(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> OpenedStorage {
        if let local = localStorage { return OpenedStorage(local) }
        let s3 = try S3Storage.fromEnvironment(environment)
        return OpenedStorage(s3) { s3.shutdown() }
    }
}
