import AsyncHTTPClient
import NIOCore
import NIOPosix

/// The one HTTP client every AWS and OpenSearch call of the process goes through.
///
/// Connection failures are not retried inside AsyncHTTPClient: the clients'
/// own `RetryPolicy` does that, with backoff and a bounded number of tries,
/// so a stopped server fails in seconds instead of holding each request until
/// its deadline. It lives for the whole process (a `static let`), so it is
/// never shut down while in use.
enum SharedHTTPClient {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()
}
