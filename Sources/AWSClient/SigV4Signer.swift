import Crypto
import Foundation

/// AWS Signature Version 4 (header form) for any service.
///
/// The caller gives the path exactly as it goes on the wire (already
/// percent-encoded, see `AWSPercentEncoding.encodePath`) and the query as
/// decoded name/value pairs; `sign` returns the canonical query string to
/// send, so the signed and the sent request cannot drift apart.
public struct SigV4Signer: Sendable {
    /// How the wire path becomes the canonical URI.
    public enum PathRule: Sendable {
        /// S3: the wire path as is (each segment encoded once), no normalization.
        case encodedOnce
        /// Every other service: dot segments and empty segments removed, then
        /// each segment of the wire path encoded a second time.
        case encodedTwice
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of an empty body.
    public static let emptyPayloadHash = SigV4Signer.sha256Hex(Data())

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    public var pathRule: PathRule

    public init(credentials: AWSCredentials, region: String, service: String, pathRule: PathRule = .encodedTwice) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathRule = pathRule
    }

    /// A signer configured for S3 (`s3`, encode-once paths).
    public static func s3(credentials: AWSCredentials, region: String) -> SigV4Signer {
        SigV4Signer(credentials: credentials, region: region, service: "s3", pathRule: .encodedOnce)
    }

    /// Everything a signature is made of, kept for tests and diagnostics.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var authorization: String
        /// The query to put after `?` on the wire (empty when there is none).
        public var canonicalQuery: String
        /// Headers to add to the request: `x-amz-date`, the session token if
        /// any, and `Authorization`.
        public var addedHeaders: [(name: String, value: String)]
    }

    /// Signs a request. `headers` must include `host` and every other header
    /// to be signed (e.g. `x-amz-content-sha256`, `range`); `x-amz-date` and
    /// `x-amz-security-token` are added here.
    public func sign(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date
    ) -> Signature {
        let (amzDate, day) = Self.timestamps(date)
        var allHeaders = headers
        allHeaders.append((name: "x-amz-date", value: amzDate))
        if let token = credentials.sessionToken {
            allHeaders.append((name: "x-amz-security-token", value: token))
        }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(allHeaders)
        let canonicalQuery = Self.canonicalQuery(query)
        let canonicalRequest = [
            method.uppercased(), canonicalURI(path), canonicalQuery, canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm, amzDate, scope, Self.sha256Hex(Data(canonicalRequest.utf8)),
        ].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        var added = [(name: "x-amz-date", value: amzDate)]
        if let token = credentials.sessionToken { added.append((name: "x-amz-security-token", value: token)) }
        added.append((name: "Authorization", value: authorization))
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            authorization: authorization, canonicalQuery: canonicalQuery, addedHeaders: added
        )
    }

    /// The canonical URI for a wire path under this signer's `pathRule`.
    public func canonicalURI(_ path: String) -> String {
        let absolute = path.isEmpty ? "/" : path
        switch pathRule {
        case .encodedOnce:
            return absolute
        case .encodedTwice:
            var segments: [Substring] = []
            for segment in absolute.split(separator: "/", omittingEmptySubsequences: true) {
                if segment == "." { continue }
                if segment == ".." { _ = segments.popLast(); continue }
                segments.append(segment)
            }
            let trailing = absolute.hasSuffix("/") && !segments.isEmpty ? "/" : ""
            return "/" + segments.map { AWSPercentEncoding.encode(String($0)) }.joined(separator: "/") + trailing
        }
    }

    /// Names and values encoded (`/` as `%2F`, space as `%20`), sorted by
    /// encoded name, then value; a name without value gets `=`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query
            .map { (AWSPercentEncoding.encode($0.name), AWSPercentEncoding.encode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lowercased names, sorted; values trimmed with inner runs of spaces
    /// collapsed; repeated names joined by `,` in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var merged: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[header.name.lowercased(), default: []].append(value.trimmingCharacters(in: .whitespaces))
        }
        let names = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    private func signingKey(day: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
        }
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] { key = hmac(key, part) }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// Lowercase hex SHA-256, the form of `x-amz-content-sha256`.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
