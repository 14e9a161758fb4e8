import Foundation

/// Everything an `S3Client` needs; `fromEnvironment` reads the standard
/// AWS variables (see `AWSEndpoint` and `AWSCredentials`).
public struct S3Configuration: Sendable {
    public var endpoint: AWSEndpoint
    public var credentials: AWSCredentials
    public var retry: RetryPolicy
    public var transfer: TransferOptions
    /// `max-keys` sent with each ListObjectsV2 page; nil leaves S3's default (1000).
    public var listPageSize: Int?
    /// Deadline of one HTTP request, body included.
    public var requestTimeout: Duration
    /// Longest silence on a connection before it is treated as broken (and retried).
    public var readTimeout: Duration
    /// Largest object `getObject` will allocate a buffer for; a bigger
    /// Content-Length is refused before any allocation.
    public var maxObjectBytes: Int

    /// How GetObject fetches large objects. The default is one stream: from
    /// moto on loopback, 100 MiB came at 36–157 MB/s in one stream against
    /// 33–53 MB/s as 8 MiB × 4 ranged parts (moto copies the whole object
    /// for every ranged request). On AWS, where one connection is the
    /// limit, `.ranged` is expected to help; that is not measured here.
    public struct TransferOptions: Sendable, Equatable {
        /// Bytes per ranged GET.
        public var partSize: Int
        /// Ranged GETs in flight at once; 1 means one plain GET per object.
        public var maxConcurrentParts: Int

        public init(partSize: Int = 8 * 1024 * 1024, maxConcurrentParts: Int = 4) {
            self.partSize = max(1, partSize)
            self.maxConcurrentParts = max(1, maxConcurrentParts)
        }

        /// One request per object, streamed.
        public static let singleStream = TransferOptions(maxConcurrentParts: 1)
        /// 8 MiB parts, 4 in flight: what AWS's transfer managers do.
        public static let ranged = TransferOptions()
    }

    public init(
        endpoint: AWSEndpoint,
        credentials: AWSCredentials,
        retry: RetryPolicy = .standard,
        transfer: TransferOptions = .singleStream,
        listPageSize: Int? = nil,
        requestTimeout: Duration = .seconds(600),
        readTimeout: Duration = .seconds(30),
        maxObjectBytes: Int = 16 * 1024 * 1024 * 1024
    ) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.retry = retry
        self.transfer = transfer
        self.listPageSize = listPageSize
        self.requestTimeout = requestTimeout
        self.readTimeout = readTimeout
        self.maxObjectBytes = maxObjectBytes
    }

    /// Credentials, region and endpoint from the standard AWS variables.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Configuration {
        S3Configuration(
            endpoint: try AWSEndpoint.resolve(service: "s3", environment: environment),
            credentials: try AWSCredentials.fromEnvironment(environment)
        )
    }
}
