import AsyncHTTPClient
import NIOCore

extension HTTPClient {
    /// The connection pool every AWS client here uses: no redirects (a
    /// redirect would carry a signature made for another host), bodies as
    /// sent, HTTP/1.1, a 10 s connect and the configured read timeout.
    static func forAWS(readTimeout: Duration) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        config.httpVersion = .http1Only
        config.timeout = .init(connect: .seconds(10), read: TimeAmount(readTimeout))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }
}
