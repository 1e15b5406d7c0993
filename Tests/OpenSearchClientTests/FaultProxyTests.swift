import Foundation
import NIOHTTP1
import StreamModel
import TestSupport
import Testing

@Suite("FaultProxy forwards to the real server and fails only what it is told to")
struct FaultProxyTests {
    @Test("unmatched requests are forwarded unchanged and recorded")
    func forwards() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let (server, index) = (environment.server, environment.index)
        let proxy = try await FaultProxy.start(upstream: server.url)
        let viaProxy = OpenSearchFixtures(url: proxy.url)

        try await viaProxy.putDocument(index: index, id: "1", json: #"{"n": 1.50}"#)

        #expect(try await server.fixtures.source(index: index, id: "1")?.serialized == #"{"n":1.50}"#)
        #expect(proxy.requestCount == 1)
        #expect(proxy.requests.first?.method == "PUT")
        #expect(proxy.requests.first?.uri == "/\(index)/_doc/1?refresh=true")
        #expect(proxy.requests.first?.bodyText == #"{"n": 1.50}"#)
        #expect(proxy.requests.first?.injectedStatus == nil)
    }

    @Test("a rule fails only matching method and path, only as many times as asked")
    func ruleMatching() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let (server, index) = (environment.server, environment.index)
        let proxy = try await FaultProxy.start(upstream: server.url)
        let viaProxy = OpenSearchFixtures(url: proxy.url)
        proxy.fail(method: "GET", pathContaining: "/_count", times: 2, status: 503, body: "busy", headers: ["retry-after": "1"])

        let put = try await viaProxy.send(.PUT, "/\(index)", body: "{}")
        let first = try await viaProxy.send(.GET, "/\(index)/_count")
        let second = try await viaProxy.send(.GET, "/\(index)/_count")
        let third = try await viaProxy.send(.GET, "/\(index)/_count")

        #expect(put.status == 200)
        #expect(first.status == 503 && first.body == "busy")
        #expect(second.status == 503)
        #expect(third.status == 200)
        #expect(proxy.requests.map(\.injectedStatus) == [nil, 503, 503, nil])
        #expect(proxy.requests(method: "GET", pathContaining: "_count").count == 3)
    }

    @Test("X-Amz-Target rules match AWS JSON operations, with AWS error bodies")
    func amzTargetMatching() async throws {
        let server = try await OpenSearchTestEnvironment.start().server
        let proxy = try await FaultProxy.start(upstream: server.url)
        let body = FaultProxy.awsJSONErrorBody(type: "ThrottlingException", message: "Rate \"exceeded\"")
        proxy.fail(
            amzTarget: "DynamoDB_20120810.GetItem", times: 1, status: 400, body: body,
            headers: ["content-type": "application/x-amz-json-1.0"])

        let viaProxy = OpenSearchFixtures(url: proxy.url)

        let otherTarget = try await viaProxy.send(.POST, "/", body: "{}", headers: ["X-Amz-Target": "DynamoDB_20120810.PutItem"])
        let matching = try await viaProxy.send(.POST, "/", body: "{}", headers: ["X-Amz-Target": "DynamoDB_20120810.GetItem"])

        #expect(otherTarget.header("content-type") != "application/x-amz-json-1.0")
        #expect(matching.status == 400)
        #expect(matching.header("content-type") == "application/x-amz-json-1.0")
        #expect(matching.body == #"{"__type":"ThrottlingException","message":"Rate \"exceeded\""}"#)
        #expect(proxy.requests.map(\.injectedStatus) == [nil, 400])
    }

    @Test("after stop, the proxy refuses connections")
    func stops() async throws {
        let server = try await OpenSearchTestEnvironment.start().server
        let proxy = try await FaultProxy.start(upstream: server.url)
        let viaProxy = OpenSearchFixtures(url: proxy.url)
        #expect(try await viaProxy.send(.GET, "/").status == 200)

        proxy.stop()

        await #expect(throws: (any Error).self) {
            try await viaProxy.send(.GET, "/")
        }
    }
}
