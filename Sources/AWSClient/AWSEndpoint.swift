import Foundation

/// Where a service's requests go, and how buckets are addressed.
///
/// Resolution follows the AWS SDKs' conventions:
/// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`
///   (SDKs would refuse; S3's global default is us-east-1, and Lambda always
///   sets `AWS_REGION`, so the fallback only matters on a developer machine);
/// - endpoint: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_S3`),
///   else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
///   is `true`; else the public endpoint of the region's partition;
/// - S3 addressing: path-style (`endpoint/bucket/key`) when the endpoint is
///   overridden (moto, MinIO, a proxy) or the bucket name is not a DNS
///   label usable under TLS; virtual-hosted (`bucket.s3.region...`) otherwise.
public struct AWSEndpoint: Sendable, Equatable {
    public static let defaultRegion = "us-east-1"

    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix of an overridden endpoint (`http://host/prefix`), no trailing `/`.
    public var basePath: String
    public var region: String
    /// True when the endpoint came from configuration rather than the region.
    public var isOverridden: Bool

    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "", region: String, isOverridden: Bool) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.region = region
        self.isOverridden = isOverridden
    }

    /// The region as the SDKs resolve it from the environment.
    public static func region(from environment: [String: String]) -> String {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return defaultRegion
    }

    /// The endpoint for `service` (the SDK identifier, e.g. `s3`, `lambda`,
    /// `states`) from the environment.
    public static func resolve(
        service: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSEndpoint {
        try resolve(serviceID: service, endpointPrefix: service, environment: environment)
    }

    /// The endpoint of a service whose SDK service id and host prefix
    /// differ: Step Functions is `SFN` in `AWS_ENDPOINT_URL_SFN` but
    /// `states.<region>.amazonaws.com`; CloudWatch Logs is `CloudWatch Logs`
    /// (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`) and `logs.<region>...`. The
    /// variable is the service id uppercased, spaces and `-` as `_`, as
    /// botocore derives it.
    public static func resolve(
        serviceID: String,
        endpointPrefix service: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSEndpoint {
        let region = region(from: environment)
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignore {
            let specific = "AWS_ENDPOINT_URL_" + serviceID.uppercased()
                .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
            for name in [specific, "AWS_ENDPOINT_URL"] {
                if let value = environment[name], !value.isEmpty {
                    return try parse(url: value, variable: name, region: region)
                }
            }
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return AWSEndpoint(scheme: "https", host: "\(service).\(region).\(suffix)", region: region, isOverridden: false)
    }

    /// Parses an endpoint override such as `http://127.0.0.1:5000`.
    public static func parse(url value: String, variable: String, region: String) throws -> AWSEndpoint {
        guard let components = URLComponents(string: value),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty,
              components.query == nil
        else {
            throw AWSConfigurationError.invalidEndpoint(variable: variable, value: value)
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        return AWSEndpoint(scheme: scheme, host: host, port: components.port, basePath: basePath, region: region, isOverridden: true)
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    public var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    /// `scheme://host[:port]`, the origin requests are sent to.
    public var origin: String { "\(scheme)://\(hostHeader)" }

    /// Whether `bucket` goes into the path (`/bucket/key`) rather than the host.
    public func usesPathStyle(bucket: String) -> Bool {
        if isOverridden { return true }
        let isDNSLabel = !bucket.isEmpty && bucket.count <= 63 && !bucket.contains(".")
            && bucket.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        return !isDNSLabel
    }
}
