import AWSClient
import CAIWorkloadAWS
import Crypto
import Foundation

/// Puts a local partition file into the stack's data bucket.
public protocol PartitionUploading: AnyObject {
    /// Makes `s3://bucket/key` hold the file's bytes; false when an object
    /// with the same content was already there (nothing sent).
    func upload(_ file: URL, bucket: String, key: String) throws -> Bool
}

/// Uploads with one PutObject, skipping an object whose ETag (the MD5 of a
/// single-part upload) already equals the file's MD5.
public final class S3PartitionUploader: PartitionUploading {
    let client: S3Client

    public init(client: S3Client) {
        self.client = client
    }

    public func upload(_ file: URL, bucket: String, key: String) throws -> Bool {
        let data: Data
        do { data = try Data(contentsOf: file.resolvingSymlinksInPath()) } catch {
            throw AWSSweepError.upload(path: file.path, bucket: bucket, key: key, reason: "\(error)")
        }
        let md5 = Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let client = self.client
        if let existing = try? blocking({ try await client.headObject(bucket: bucket, key: key) }),
           existing.contentLength == data.count, existing.etag == md5 {
            return false
        }
        do {
            try blocking { try await client.putObject(bucket: bucket, key: key, body: data) }
        } catch {
            throw AWSSweepError.upload(path: file.path, bucket: bucket, key: key, reason: "\(error)")
        }
        return true
    }
}
