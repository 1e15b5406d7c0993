import Foundation
import OpenSearchClient
import StreamModel
import Testing
import TestSupport

@Suite("OpenSearchClient endpoints and authentication")
struct OpenSearchClientEndpointTests {
    @Test("basic auth sends an Authorization header and never puts the password in errors")
    func basicAuthHeader() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, auth: .basic(username: "alice", password: "s3cret-pässword"))

        _ = try await client.index(index: environment.index, id: "a", document: .object([:]))
        proxy.failNext(1, status: 401, body: FaultProxy.openSearchErrorBody(type: "security_exception", reason: "unauthorized", status: 401))
        let error = await #expect(throws: OpenSearchError.self) { try await client.ping() }

        let expected = "Basic " + Data("alice:s3cret-pässword".utf8).base64EncodedString()
        #expect(proxy.requests.count == 2)
        #expect(proxy.requests.allSatisfy { $0.header("authorization") == expected })
        #expect(error?.code == .forbidden)
        #expect(error?.description.contains("s3cret") == false)
        #expect(error?.description.contains(expected) == false)
    }

    @Test("no auth sends no Authorization header")
    func noAuthHeader() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        try await environment.client(endpoint: proxy.url).ping()
        #expect(proxy.requests.first?.header("authorization") == nil)
    }

    @Test("an endpoint path prefix is kept before every path; user info in the URL is dropped")
    func pathPrefix() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let port = try #require(proxy.url.port)
        guard let endpoint = URL(string: "http://leaky:hunter2@127.0.0.1:\(port)/search/") else {
            Issue.record("endpoint URL did not parse")
            return
        }
        let client = environment.client(endpoint: endpoint)
        proxy.fail(status: 200, body: #"{"found": false, "_id": "a b"}"#)

        try await client.ping()
        _ = try await client.get(index: environment.index, id: "a b")

        #expect(proxy.requests.map(\.uri) == ["/search/", "/search/\(environment.index)/_doc/a%20b"])
        #expect(proxy.requests.allSatisfy { $0.header("authorization") == nil })
    }

    @Test("document ids are percent-encoded in paths and conditions go in the query")
    func encodedPathsAndQuery() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)

        _ = try await client.index(
            index: environment.index, id: "a/b?c#d%e f", document: .object([:]), condition: .createOnly, refresh: .waitFor)
        _ = try await client.index(
            index: environment.index, id: "a/b?c#d%e f", document: .object([:]), condition: .ifSeqNo(0, primaryTerm: 1))
        _ = try await client.delete(index: environment.index, id: "a/b?c#d%e f", refresh: .immediate)

        let path = "/\(environment.index)/_doc/a%2Fb%3Fc%23d%25e%20f"
        #expect(
            proxy.requests.map { "\($0.method) \($0.uri)" } == [
                "PUT \(path)?op_type=create&refresh=wait_for",
                "PUT \(path)?if_seq_no=0&if_primary_term=1",
                "DELETE \(path)?refresh=true",
            ])
        #expect(proxy.requests[0].header("content-type") == "application/json")
    }
}
