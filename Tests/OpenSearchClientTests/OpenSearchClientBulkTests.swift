import AWSClients
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@Suite("OpenSearchClient bulk against osmem")
struct OpenSearchClientBulkTests {
    @Test("mixed bulk: each item's status, result and error are read on their own")
    func mixedResults() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        _ = try await client.index(index: environment.index, id: "existing", document: .object(["v": .number("1")]))
        let existing = try #require(try await client.get(index: environment.index, id: "existing"))
        _ = try await client.index(index: environment.index, id: "existing", document: .object(["v": .number("2")]))

        let results = try await client.bulk(
            index: environment.index,
            operations: [
                .index(id: "fresh", document: .object(["n": .number("1.000")]), condition: nil),
                .index(id: "existing", document: .object(["v": .number("3")]), condition: existing.unchangedCondition),
                .delete(id: "never-there", condition: nil),
                .index(id: "existing", document: .object(["v": .number("4")]), condition: .createOnly),
                .index(id: "created-once", document: .object([:]), condition: .createOnly),
            ], refresh: .immediate)

        #expect(results.map(\.id) == ["fresh", "existing", "never-there", "existing", "created-once"])
        #expect(results.map(\.status) == [201, 409, 404, 409, 201])
        #expect(results.map(\.isSuccess) == [true, false, true, false, true])
        #expect(results[0].result == "created")
        #expect(results[0].seqNo != nil)
        #expect(results[0].primaryTerm != nil)
        #expect(results[1].errorType == "version_conflict_engine_exception")
        #expect(results[1].errorReason?.contains("version conflict") == true)
        #expect(results[1].result == nil)
        #expect(results[1].isRetryable == false)
        #expect(results[2].result == "not_found")
        #expect(results[2].errorType == nil)
        #expect(results[3].errorType == "version_conflict_engine_exception")
        #expect(try await environment.fixtures.source(index: environment.index, id: "existing") == .object(["v": .number("2")]))
        #expect(try await environment.fixtures.source(index: environment.index, id: "fresh") == .object(["n": .number("1.000")]))
        #expect(try await environment.fixtures.count(index: environment.index) == 3)
    }

    @Test("a bulk of no operations sends nothing and returns nothing")
    func emptyBulk() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let results = try await environment.client(endpoint: proxy.url).bulk(index: environment.index, operations: [])
        #expect(results.isEmpty)
        #expect(proxy.requestCount == 0)
    }

    @Test("the NDJSON body has one action line per operation, a source line per index and a final newline")
    func ndjsonShape() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)

        _ = try await client.bulk(
            index: environment.index,
            operations: [
                .index(id: "a/b", document: .object(["text": .string("line\nbreak"), "n": .number("1e3")]), condition: nil),
                .delete(id: "a/b", condition: .ifSeqNo(0, primaryTerm: 1)),
                .index(id: "c", document: .object([:]), condition: .createOnly),
            ])

        let request = try #require(proxy.requests(pathContaining: "/_bulk").first)
        #expect(request.method == "POST")
        #expect(request.uri == "/\(environment.index)/_bulk")
        #expect(request.header("content-type") == "application/x-ndjson")
        #expect(request.bodyText.hasSuffix("\n"))
        let lines = request.bodyText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(
            lines == [
                #"{"index":{"_id":"a/b"}}"#, #"{"n":1e3,"text":"line\nbreak"}"#,
                #"{"delete":{"_id":"a/b","if_primary_term":1,"if_seq_no":0}}"#,
                #"{"create":{"_id":"c"}}"#, "{}",
            ])
    }

    @Test("many operations are split by count into requests, results in order")
    func splitByCount() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url, maxBulkOperations: 4)
        let operations = (0..<25).map {
            BulkOperation.index(id: "doc-\($0)", document: .object(["n": .number(String($0))]), condition: nil)
        }

        let results = try await client.bulk(index: environment.index, operations: operations)

        #expect(results.map(\.id) == operations.map(\.id))
        #expect(results.allSatisfy { $0.isSuccess })
        #expect(proxy.requests(pathContaining: "/_bulk").count == 7)
        #expect(try await environment.fixtures.count(index: environment.index) == 25)
        #expect(try await environment.fixtures.source(index: environment.index, id: "doc-24") == .object(["n": .number("24")]))
    }

    @Test("operations are split by bytes; no request exceeds the limit unless one operation alone does")
    func splitByBytes() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let limit = 300
        let client = environment.client(endpoint: proxy.url, maxBulkBytes: limit)
        var operations = (0..<20).map {
            BulkOperation.index(
                id: "doc-\($0)", document: .object(["padding": .string(String(repeating: "x", count: 60))]), condition: nil)
        }
        operations.insert(
            .index(id: "huge", document: .object(["padding": .string(String(repeating: "y", count: 1000))]), condition: nil),
            at: 7)

        let results = try await client.bulk(index: environment.index, operations: operations)

        #expect(results.map(\.id) == operations.map(\.id))
        #expect(results.allSatisfy { $0.isSuccess })
        let bulkRequests = proxy.requests(pathContaining: "/_bulk")
        #expect(bulkRequests.count > 1)
        for request in bulkRequests where !request.bodyText.contains("\"huge\"") {
            #expect(request.body.count <= limit)
        }
        let hugeRequest = try #require(bulkRequests.first { $0.bodyText.contains("\"huge\"") })
        #expect(hugeRequest.bodyText.split(separator: "\n").count == 2)
        #expect(try await environment.fixtures.count(index: environment.index) == 21)
    }

    @Test("operations on one document apply in order across split requests")
    func orderAcrossRequests() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client(maxBulkOperations: 1)
        let results = try await client.bulk(
            index: environment.index,
            operations: [
                .index(id: "x", document: .object(["v": .number("1")]), condition: nil),
                .index(id: "x", document: .object(["v": .number("2")]), condition: nil),
                .delete(id: "x", condition: nil),
                .index(id: "x", document: .object(["v": .number("3")]), condition: .createOnly),
            ])

        #expect(results.map(\.result) == ["created", "updated", "deleted", "created"])
        #expect(try await environment.fixtures.source(index: environment.index, id: "x") == .object(["v": .number("3")]))
    }
}

@Suite("OpenSearchClient bulkSettled: a later request's failure keeps the earlier requests' results")
struct OpenSearchClientBulkSettledTests {
    @Test("a bulk split into three requests whose second fails: the first's items succeed, the rest carry the error")
    func laterRequestFails() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        // One try per request, so that the second request's 500 is final.
        let client = environment.client(endpoint: proxy.url, retryPolicy: .none, maxBulkOperations: 2)
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, after: 1, status: 500)
        let operations: [BulkOperation] = (1...5).map {
            .index(id: "doc-\($0)", document: .object(["n": .number(String($0))]), condition: nil)
        }
        let outcomes = try await client.bulkSettled(index: environment.index, operations: operations, refresh: .immediate)
        #expect(outcomes.count == 5)
        let items = outcomes.map { try? $0.get() }
        #expect(items[0]?.status == 201 && items[1]?.status == 201, "the first request's writes landed and are reported")
        for outcome in outcomes.dropFirst(2) {
            guard case .failure(let error) = outcome else {
                Issue.record("expected the second request's error, got \(outcome)")
                continue
            }
            #expect(error.code == .serverError)
        }
        #expect(proxy.requests(method: "POST", pathContaining: "/_bulk").count == 2, "nothing is sent past a failure")
        #expect(try await environment.fixtures.count(index: environment.index) == 2)
        // bulk, unlike bulkSettled, throws the failure.
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, after: 1, status: 500)
        await #expect(throws: OpenSearchError.self) {
            _ = try await client.bulk(index: environment.index, operations: operations)
        }
    }
}
