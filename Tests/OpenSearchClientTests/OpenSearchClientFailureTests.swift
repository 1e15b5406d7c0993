import AWSClients
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@Suite("OpenSearchClient failures: real server faults and injected 429/5xx")
struct OpenSearchClientFailureTests {
    @Test("a write-blocked index gives a typed 403 cluster_block_exception; bulk items get it per item")
    func writeBlocked() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        _ = try await client.index(index: environment.index, id: "a", document: .object(["v": .number("1")]))
        try await environment.fixtures.blockWrites(index: environment.index)

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.index(index: environment.index, id: "a", document: .object(["v": .number("2")]))
        }
        #expect(error?.code == .forbidden)
        #expect(error?.statusCode == 403)
        #expect(error?.type == "cluster_block_exception")
        #expect(error?.reason.contains("blocked") == true)
        #expect(error?.index == environment.index)
        #expect(error?.documentID == "a")
        #expect(error?.isRetryable == false)

        let results = try await client.bulk(
            index: environment.index, operations: [.index(id: "b", document: .object([:]), condition: nil)])
        #expect(results.first?.status == 403)
        #expect(results.first?.errorType == "cluster_block_exception")
        #expect(results.first?.isSuccess == false)

        #expect(try await client.get(index: environment.index, id: "a")?.source == .object(["v": .number("1")]))
    }

    @Test("a closed index gives a typed 400 index_closed_exception on get, mget, index and delete")
    func closedIndex() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        _ = try await client.index(index: environment.index, id: "a", document: .object([:]))
        try await environment.fixtures.closeIndex(environment.index)

        let getError = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "a")
        }
        let multiGetError = await #expect(throws: OpenSearchError.self) {
            try await client.multiGet(index: environment.index, ids: ["a"])
        }
        let indexError = await #expect(throws: OpenSearchError.self) {
            try await client.index(index: environment.index, id: "a", document: .object([:]))
        }
        let deleteError = await #expect(throws: OpenSearchError.self) {
            try await client.delete(index: environment.index, id: "a")
        }
        for error in [getError, indexError, deleteError] {
            #expect(error?.code == .clientError)
            #expect(error?.statusCode == 400)
            #expect(error?.type == "index_closed_exception")
            #expect(error?.documentID == "a")
        }
        #expect(multiGetError?.code == .clientError)
        #expect(multiGetError?.type == "index_closed_exception")
        #expect(multiGetError?.documentID == "a")

        try await environment.fixtures.openIndex(environment.index)
        #expect(try await client.get(index: environment.index, id: "a") != nil)
    }

    @Test("a stopped server is a retryable connection error once tries run out")
    func serverStopped() async throws {
        let environment = try await OpenSearchTestEnvironment.start(dedicatedServer: true)
        // AsyncHTTPClient keeps retrying a refused connection until the request's deadline and
        // then fails with the last connect error; a deadline reached before any connect failed
        // is a timeout instead. 3 s leaves a loaded machine time for that first refusal.
        let client = environment.client(
            retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)),
            requestTimeout: .seconds(3))
        try await client.ping()
        environment.server.stop()

        let getError = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "a")
        }
        let bulkError = await #expect(throws: OpenSearchError.self) {
            try await client.bulk(index: environment.index, operations: [.delete(id: "a", condition: nil)])
        }
        let pingError = await #expect(throws: OpenSearchError.self) { try await client.ping() }
        for error in [getError, bulkError, pingError] {
            #expect(error?.code == .connection)
            #expect(error?.statusCode == nil)
            #expect(error?.isRetryable == true)
        }
        #expect(getError?.documentID == "a")
    }

    @Test("429 then success: the call is retried and succeeds; the proxy saw every try")
    func throttledThenSucceeds() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.failNext(
            2, status: 429,
            body: FaultProxy.openSearchErrorBody(type: "rejected_execution_exception", reason: "queue full", status: 429))

        let write = try await client.index(index: environment.index, id: "t", document: .object(["v": .number("1")]))

        #expect(write.result == "created")
        #expect(proxy.requestCount == 3)
        #expect(proxy.requests.map(\.injectedStatus) == [429, 429, nil])
        #expect(try await environment.fixtures.source(index: environment.index, id: "t") == .object(["v": .number("1")]))
    }

    @Test("503 on _bulk: the whole request is retried and every item succeeds")
    func bulkServerErrorRetried() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 2, status: 503)

        let results = try await client.bulk(
            index: environment.index,
            operations: (0..<3).map { .index(id: "b\($0)", document: .object([:]), condition: nil) })

        #expect(results.map(\.status) == [201, 201, 201])
        #expect(proxy.requests(pathContaining: "/_bulk").count == 3)
        #expect(try await environment.fixtures.count(index: environment.index) == 3)
    }

    @Test("429 every time: rejected after exactly maxAttempts tries, marked retryable")
    func throttledUntilExhausted() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, retryPolicy: .fastForTests)
        proxy.fail(
            status: 429,
            body: FaultProxy.openSearchErrorBody(type: "rejected_execution_exception", reason: "queue full", status: 429))

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "a")
        }
        #expect(error?.code == .rejected)
        #expect(error?.statusCode == 429)
        #expect(error?.type == "rejected_execution_exception")
        #expect(error?.reason == "queue full")
        #expect(error?.isRetryable == true)
        #expect(proxy.requestCount == RetryPolicy.fastForTests.maxAttempts)
    }

    @Test("a 400 is not retried: one request, typed client error with the server's type and reason")
    func badRequestNotRetried() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.failNext(
            1, status: 400,
            body: FaultProxy.openSearchErrorBody(
                type: "mapper_parsing_exception", reason: "failed to parse\nfield [x]", status: 400))

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.index(index: environment.index, id: "p", document: .object(["x": .string("y")]))
        }
        #expect(error?.code == .clientError)
        #expect(error?.type == "mapper_parsing_exception")
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("\n") == false)
        #expect(error?.description.contains("mapper_parsing_exception") == true)
        #expect(proxy.requestCount == 1)
        #expect(try await environment.fixtures.source(index: environment.index, id: "p") == nil)
    }

    @Test("a 5xx without a JSON body still gives a typed server error")
    func plainTextServerError() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, retryPolicy: .none)
        proxy.failNext(1, status: 502, body: "Bad Gateway\nfrom a load balancer", headers: ["content-type": "text/plain"])

        let error = await #expect(throws: OpenSearchError.self) { try await client.ping() }
        #expect(error?.code == .serverError)
        #expect(error?.statusCode == 502)
        #expect(error?.type == nil)
        #expect(error?.reason == "Bad Gateway")
        #expect(proxy.requestCount == 1)
    }

    @Test("413 on _bulk: the request is halved and resent; every operation still applies in order")
    func bulkPayloadTooLargeSplits() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.fail(pathContaining: "/_bulk", times: 1, status: 413)
        let operations = (0..<4).map {
            BulkOperation.index(id: "s\($0)", document: .object(["n": .number(String($0))]), condition: nil)
        }

        let results = try await client.bulk(index: environment.index, operations: operations)

        #expect(results.map(\.id) == ["s0", "s1", "s2", "s3"])
        #expect(results.allSatisfy { $0.isSuccess })
        let bulkRequests = proxy.requests(pathContaining: "/_bulk")
        #expect(bulkRequests.map(\.injectedStatus) == [413, nil, nil])
        #expect(bulkRequests[1].bodyText.contains("\"s0\"") && bulkRequests[1].bodyText.contains("\"s1\""))
        #expect(bulkRequests[2].bodyText.contains("\"s2\"") && bulkRequests[2].bodyText.contains("\"s3\""))
        #expect(try await environment.fixtures.count(index: environment.index) == 4)
    }

    @Test("413 for a single operation: its item result says 413; other operations apply")
    func bulkSingleOperationTooLarge() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, maxBulkOperations: 1)
        proxy.fail(pathContaining: "/_bulk", times: 1, status: 413)

        let results = try await client.bulk(
            index: environment.index,
            operations: [
                .index(id: "big", document: .object([:]), condition: nil),
                .index(id: "small", document: .object([:]), condition: nil),
            ])

        #expect(results.map(\.status) == [413, 201])
        #expect(results[0].isSuccess == false)
        #expect(results[0].isRetryable == false)
        #expect(results[0].errorType == "fault_proxy_injected")
        #expect(results[0].errorReason?.contains("too large") == true)
        #expect(try await environment.fixtures.source(index: environment.index, id: "big") == nil)
        #expect(try await environment.fixtures.source(index: environment.index, id: "small") != nil)
    }

    @Test("413 on a single-document index is a typed payloadTooLarge error, not retried")
    func indexPayloadTooLarge() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.failNext(1, status: 413)

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.index(index: environment.index, id: "big", document: .object([:]))
        }
        #expect(error?.code == .payloadTooLarge)
        #expect(error?.statusCode == 413)
        #expect(proxy.requestCount == 1)
    }

    @Test("an answer that is not OpenSearch JSON is an invalidResponse error")
    func invalidAnswer() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)
        proxy.failNext(1, status: 200, body: "<html>captive portal</html>", headers: ["content-type": "text/html"])
        proxy.failNext(1, status: 200, body: #"{"errors": false, "items": []}"#)

        let getError = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "a")
        }
        let bulkError = await #expect(throws: OpenSearchError.self) {
            try await client.bulk(index: environment.index, operations: [.delete(id: "a", condition: nil)])
        }
        #expect(getError?.code == .invalidResponse)
        #expect(bulkError?.code == .invalidResponse)
        #expect(bulkError?.isRetryable == false)
    }

    @Test("no answer within the request timeout is a retryable timeout error")
    func timeout() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        // The deadline leaves a loaded machine time to connect, so the request
        // reaches the proxy and the timeout comes from the held answer.
        let client = environment.client(endpoint: proxy.url, retryPolicy: .none, requestTimeout: .seconds(3))
        proxy.delayNext(1, by: .seconds(60))

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "slow")
        }
        #expect(error?.code == .timeout)
        #expect(error?.isRetryable == true)
        #expect(error?.documentID == "slow")
        #expect(proxy.requests.map(\.wasDelayed) == [true])
    }

    @Test("a timed-out try is retried and a later try succeeds")
    func timeoutRetried() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, requestTimeout: .seconds(3))
        proxy.delayNext(1, by: .seconds(60))

        #expect(try await client.get(index: environment.index, id: "slow") == nil)
        // On a loaded machine an undelayed try can time out too; only the first was held back.
        let delayed = proxy.requests.map(\.wasDelayed)
        #expect(delayed.count >= 2 && delayed.first == true && !delayed.dropFirst().contains(true), "\(delayed)")
    }
}
