import AWSClients
import Crypto
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@Suite("OpenSearchClient endpoints and authentication")
struct OpenSearchClientEndpointTests {
    @Test("basic auth sends an Authorization header and never puts the password in errors")
    func basicAuthHeader() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, auth: .basic(username: "alice", password: "s3cret-pässword"))

        _ = try await client.index(index: environment.index, id: "a", document: .object([:]))
        proxy.failNext(
            1, status: 401, body: FaultProxy.openSearchErrorBody(type: "security_exception", reason: "unauthorized", status: 401))
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

    @Test("SigV4 signs for es with x-amz-content-sha256; the signature matches the request as received")
    func sigV4Headers() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let credentials = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI-secret", sessionToken: "session-token")
        let client = environment.client(
            endpoint: proxy.url, auth: .sigV4(credentials: AWSCredentialProvider(credentials), region: "eu-west-2"))

        _ = try await client.index(index: environment.index, id: "a/b", document: .object(["v": .number("1.0")]))

        let request = try #require(proxy.requests.first)
        let authorization = try #require(request.header("authorization"))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        #expect(authorization.contains("/eu-west-2/es/aws4_request, "))
        #expect(
            authorization.contains("SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")
        )
        #expect(
            request.header("x-amz-content-sha256") == SHA256.hash(data: request.body).map { String(format: "%02x", $0) }.joined())
        #expect(request.header("x-amz-security-token") == "session-token")
        #expect(request.header("host") == "127.0.0.1:\(proxy.url.port ?? 0)")

        let amzDate = try #require(request.header("x-amz-date"))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let date = try #require(formatter.date(from: amzDate))
        let signedNames = ["accept", "content-type", "host"]
        let signedHeaders = request.headers.filter { signedNames.contains($0.name.lowercased()) }.map {
            (name: $0.name, value: $0.value)
        }
        let url = try #require(URL(string: proxy.url.absoluteString + request.uri))
        let expected = SigV4Signer(credentials: credentials, region: "eu-west-2", service: "es")
            .sign(
                method: request.method, url: url, headers: signedHeaders, body: request.body, date: date,
                addContentSHA256Header: true)
        #expect(expected.first { $0.name == "authorization" }?.value == authorization)
        #expect(try await environment.fixtures.source(index: environment.index, id: "a/b") == .object(["v": .number("1.0")]))
    }

    @Test("SigV4 errors and the auth's description never show the secret or the token")
    func sigV4NoSecretsInErrors() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let credentials = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "very-secret-key", sessionToken: "session-token")
        let auth = OpenSearchAuth.sigV4(credentials: AWSCredentialProvider(credentials), region: "eu-west-2")
        let client = environment.client(endpoint: proxy.url, auth: auth)
        proxy.failNext(
            1, status: 403,
            body: FaultProxy.openSearchErrorBody(type: "security_exception", reason: "signature mismatch", status: 403))

        let error = await #expect(throws: OpenSearchError.self) { try await client.ping() }

        #expect(error?.code == .forbidden)
        #expect(error?.type == "security_exception")
        for text in [
            error?.description ?? "", "\(auth)", String(reflecting: auth),
            "\(OpenSearchAuth.basic(username: "u", password: "pw-123"))",
        ] {
            #expect(!text.contains("very-secret-key"))
            #expect(!text.contains("session-token"))
            #expect(!text.contains("pw-123"))
        }
    }

    @Test("an endpoint that is not http(s) with a host is a client error, sent nowhere and not retried")
    func badEndpoint() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        for text in ["ftp://127.0.0.1:9200", "file:///tmp/socket"] {
            let endpoint = try #require(URL(string: text))
            let error = await #expect(throws: OpenSearchError.self) { try await environment.client(endpoint: endpoint).ping() }
            #expect(error?.code == .clientError)
            #expect(error?.isRetryable == false)
        }
    }
}
