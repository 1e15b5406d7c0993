import AWSClients
import Foundation
import Logging
import OpenSearchClient
import TestSupport

/// An osmem-server and a unique index for one test.
struct OpenSearchTestEnvironment {
    let server: OSMemServer
    let index: String

    var fixtures: OpenSearchFixtures { server.fixtures }

    /// One server shared by the tests of this process, each with its own index.
    /// A server per test would make dozens of servers load their analysis
    /// dictionaries at once on a small machine, and slow every test down.
    private static let sharedServer = Task { try await OSMemServer.start() }

    /// A unique index on the shared server, or on a server of its own for
    /// tests that stop it.
    static func start(dedicatedServer: Bool = false, indexPrefix: String = "artists") async throws
        -> OpenSearchTestEnvironment
    {
        let server = dedicatedServer ? try await OSMemServer.start() : try await sharedServer.value
        return OpenSearchTestEnvironment(server: server, index: OpenSearchFixtures.uniqueIndexName(indexPrefix))
    }

    /// A client for `endpoint` (the server by default) with fast retries, so failure tests stay short.
    func client(
        endpoint: URL? = nil, auth: OpenSearchAuth = .none, retryPolicy: RetryPolicy = .fastForTests,
        requestTimeout: Duration = .seconds(20), maxBulkBytes: Int = 5 * 1024 * 1024, maxBulkOperations: Int = 1000
    ) -> OpenSearchClient {
        OpenSearchClient(
            endpoint: endpoint ?? server.url, auth: auth, retryPolicy: retryPolicy, requestTimeout: requestTimeout,
            maxBulkBytes: maxBulkBytes, maxBulkOperations: maxBulkOperations,
            logger: Logger(label: "opensearch-test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}

extension RetryPolicy {
    /// Three tries a few milliseconds apart.
    static let fastForTests = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(2), maxDelay: .milliseconds(10))
}
