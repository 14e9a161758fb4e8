import Foundation

/// A validated place in object storage: an S3 bucket name and a key prefix.
/// The one home of the naming rules, shared by the local pipeline (where a
/// bucket is a directory under `--root` and the prefix a relative path
/// below it) and any S3 backend, so a payload that is safe in one is safe in
/// the other.
///
/// Bucket names follow S3's general purpose rules: 3–63 characters of
/// lowercase letters, digits, dots and hyphens, starting and ending with a
/// letter or digit, no two adjacent dots, not an IP address, none of S3's
/// reserved prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes
/// (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
///
/// A prefix is an S3 key (at most 1,024 UTF-8 bytes) that must also be a
/// safe relative path, so it can never leave its bucket however it is
/// spelled: `/`-separated segments of at most 255 bytes; no leading `/`
/// (absolute), no `.` or `..` segment (S3 keeps them literally, a file
/// system resolves them, so the same payload would name different objects),
/// no empty segment (`a//b`), no backslash (a separator on Windows and in
/// many tools), no NUL or other control character. One trailing `/` is
/// dropped. Spaces and other Unicode are legal ("Anomaly Detection").
/// Percent signs are literal: keys are not URL-decoded, so `%2e%2e` is a
/// directory named `%2e%2e` inside the bucket, as it is an object key
/// `%2e%2e` in S3 (an SDK percent-encodes it again on the wire).
public struct StorageLocation: Equatable, Hashable, Sendable {
    /// Longest S3 object key, UTF-8 bytes.
    public static let maxKeyBytes = 1_024
    /// Longest path segment a local file system (Linux NAME_MAX) accepts.
    public static let maxSegmentBytes = 255
    static let reservedBucketPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
    static let reservedBucketSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]

    public let bucket: String
    /// The normalised prefix: segments joined by `/`, no leading or trailing
    /// `/`; empty for the bucket's top level.
    public let prefix: String

    /// Validates both names; the error names the payload `source`, the key
    /// (`bucketKey` for the bucket, `key` for the prefix) and the value.
    public init(bucket: String, prefix: String, key: String, bucketKey: String = "bucket",
                source: String = "<payload>") throws(PayloadError) {
        try Self.validateBucket(bucket, key: bucketKey, source: source)
        self.bucket = bucket
        self.prefix = try Self.normalizedPrefix(prefix, key: key, source: source)
    }

    /// The prefix's segments, in order.
    public var segments: [String] { prefix.isEmpty ? [] : prefix.components(separatedBy: "/") }

    /// The location as a directory below `root`: root/bucket/segments...
    public func directory(under root: URL) -> URL {
        segments.reduce(root.appendingPathComponent(bucket, isDirectory: true)) {
            $0.appendingPathComponent($1, isDirectory: true)
        }
    }

    /// Throws unless `name` is a valid S3 general purpose bucket name.
    public static func validateBucket(_ name: String, key: String, source: String) throws(PayloadError) {
        func reject(_ reason: String) -> PayloadError {
            .invalidLocation(path: source, key: key, value: name, reason: reason)
        }
        guard (3...63).contains(name.utf8.count) else {
            throw reject("a bucket name must be 3 to 63 characters long")
        }
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-"
        }
        guard allowed else { throw reject("a bucket name may only hold lowercase letters, digits, dots and hyphens") }
        let isAlphanumeric: (Character?) -> Bool = { $0.map { $0.isASCII && ($0.isLetter || $0.isNumber) } ?? false }
        guard isAlphanumeric(name.first), isAlphanumeric(name.last) else {
            throw reject("a bucket name must start and end with a letter or digit")
        }
        guard !name.contains("..") else { throw reject("a bucket name must not contain two adjacent dots") }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            throw reject("a bucket name must not look like an IP address")
        }
        if let prefix = reservedBucketPrefixes.first(where: { name.hasPrefix($0) }) {
            throw reject("the prefix \"\(prefix)\" is reserved by S3")
        }
        if let suffix = reservedBucketSuffixes.first(where: { name.hasSuffix($0) }) {
            throw reject("the suffix \"\(suffix)\" is reserved by S3")
        }
    }

    /// The prefix with one trailing `/` dropped, or an error saying which rule
    /// it breaks.
    public static func normalizedPrefix(_ text: String, key: String, source: String) throws(PayloadError) -> String {
        func reject(_ reason: String) -> PayloadError {
            .invalidLocation(path: source, key: key, value: text, reason: reason)
        }
        guard text.utf8.count <= maxKeyBytes else {
            throw reject("an S3 key is at most \(maxKeyBytes) bytes, this is \(text.utf8.count)")
        }
        if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw reject(bad.value == 0 ? "it contains a NUL character" : "it contains the control character U+\(String(format: "%04X", bad.value))")
        }
        guard !text.contains("\\") else { throw reject("it contains a backslash; separate folders with /") }
        guard !text.hasPrefix("/") else { throw reject("it must be relative to its bucket, not start with /") }
        var body = text
        if body.hasSuffix("/") { body.removeLast() }
        if body.isEmpty { return "" }
        for segment in body.components(separatedBy: "/") {
            if segment.isEmpty { throw reject("it contains an empty folder name (//)") }
            if segment == "." || segment == ".." {
                throw reject("\"\(segment)\" folders are not allowed (the path must stay inside its bucket)")
            }
            if segment.utf8.count > maxSegmentBytes {
                throw reject("the folder name \"\(segment.prefix(20))…\" is longer than \(maxSegmentBytes) bytes")
            }
        }
        return body
    }
}
