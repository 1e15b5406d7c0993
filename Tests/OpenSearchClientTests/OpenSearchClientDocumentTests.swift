import Foundation
import NIOHTTP1
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

@Suite("OpenSearchClient documents against osmem")
struct OpenSearchClientDocumentTests {
    @Test("index then get returns the source with exact number text and the write's seq_no/primary_term")
    func indexGetRoundTripKeepsNumbers() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let document = try JSONValue(
            parsing:
                #"{"big": 12345678901234567890.123, "exp": 1.0e5, "tiny": -0.000001, "whole": 10, "nested": {"list": [1.50, 2.0, 30e-1], "text": "x\ny", "none": null, "flag": true}}"#
        )

        let write = try await client.index(index: environment.index, id: "42", document: document)
        let read = try #require(try await client.get(index: environment.index, id: "42"))

        #expect(write.result == "created")
        #expect(read.id == "42")
        #expect(read.source == document)
        #expect(read.source["big"]?.numberText == "12345678901234567890.123")
        #expect(read.source["exp"]?.numberText == "1.0e5")
        #expect(read.source["nested"]?["list"]?.arrayValue?.first?.numberText == "1.50")
        #expect(read.seqNo == write.seqNo)
        #expect(read.primaryTerm == write.primaryTerm)
        #expect(try await environment.fixtures.source(index: environment.index, id: "42") == document)
    }

    @Test("ids with slashes, spaces and reserved characters are one path segment")
    func awkwardIDsRoundTrip() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let ids = ["a/b", "a b", "q?x=1&y#z", "100%", "ünï", ".", ".."]
        for (position, id) in ids.enumerated() {
            let write = try await client.index(
                index: environment.index, id: id, document: .object(["n": .number(String(position))]))
            #expect(write.id == id)
        }
        for (position, id) in ids.enumerated() {
            let read = try #require(try await client.get(index: environment.index, id: id), "id \(id)")
            #expect(read.id == id)
            #expect(read.source == .object(["n": .number(String(position))]))
        }
        #expect(try await environment.fixtures.count(index: environment.index) == ids.count)
        #expect(try await environment.fixtures.source(index: environment.index, id: "a/b") == .object(["n": .number("0")]))
    }

    @Test("get of a missing document, or of a missing index, is nil")
    func getMissing() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        #expect(try await client.get(index: environment.index, id: "nobody") == nil)
        try await client.createIndexIfMissing(index: environment.index)
        #expect(try await client.get(index: environment.index, id: "nobody") == nil)
    }

    @Test("a second index of the same id is updated and advances seq_no")
    func indexTwiceUpdates() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let first = try await client.index(index: environment.index, id: "7", document: .object(["v": .number("1")]))
        let second = try await client.index(
            index: environment.index, id: "7", document: .object(["v": .number("2")]), refresh: .immediate)
        #expect(first.result == "created")
        #expect(second.result == "updated")
        #expect((second.seqNo ?? 0) > (first.seqNo ?? 0))
        #expect(try await environment.fixtures.source(index: environment.index, id: "7") == .object(["v": .number("2")]))
    }

    @Test("multiGet returns found documents by id, skips missing ids and duplicates, in batches")
    func multiGetMixed() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client(maxBulkOperations: 2)
        for id in ["a", "b/1", "c", "d"] {
            try await environment.fixtures.putDocument(index: environment.index, id: id, json: #"{"id": "\#(id)", "n": 1.10}"#)
        }

        let documents = try await client.multiGet(index: environment.index, ids: ["a", "missing", "b/1", "a", "d", "gone"])

        #expect(Set(documents.keys) == ["a", "b/1", "d"])
        #expect(documents["b/1"]?.source == .object(["id": .string("b/1"), "n": .number("1.10")]))
        let direct = try #require(try await client.get(index: environment.index, id: "d"))
        #expect(documents["d"] == direct)
    }

    @Test("multiGet of a missing index or of no ids is empty")
    func multiGetMissingIndex() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        #expect(try await client.multiGet(index: environment.index, ids: ["a", "b"]).isEmpty)
        #expect(try await client.multiGet(index: environment.index, ids: []).isEmpty)
    }

    @Test("a write conditioned on a stale seq_no/primary_term is a real 409 conflict")
    func staleConditionConflicts() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        _ = try await client.index(index: environment.index, id: "9", document: .object(["v": .number("1")]))
        let read = try #require(try await client.get(index: environment.index, id: "9"))

        let conditional = try await client.index(
            index: environment.index, id: "9", document: .object(["v": .number("2")]), condition: read.unchangedCondition)
        #expect(conditional.result == "updated")

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.index(
                index: environment.index, id: "9", document: .object(["v": .number("3")]),
                condition: read.unchangedCondition)
        }
        #expect(error?.code == .conflict)
        #expect(error?.statusCode == 409)
        #expect(error?.type == "version_conflict_engine_exception")
        #expect(error?.index == environment.index)
        #expect(error?.documentID == "9")
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("version conflict") == true)
        #expect(try await environment.fixtures.source(index: environment.index, id: "9") == .object(["v": .number("2")]))
    }

    @Test("createOnly writes a new document and is a 409 conflict when it exists")
    func createOnly() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let created = try await client.index(
            index: environment.index, id: "new", document: .object(["v": .number("1")]), condition: .createOnly)
        #expect(created.result == "created")

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.index(
                index: environment.index, id: "new", document: .object(["v": .number("2")]), condition: .createOnly)
        }
        #expect(error?.code == .conflict)
        #expect(error?.type == "version_conflict_engine_exception")
        #expect(try await environment.fixtures.source(index: environment.index, id: "new") == .object(["v": .number("1")]))
    }

    @Test("delete removes a document; a missing document or index is not_found without a throw")
    func deleteResults() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let missingIndex = try await client.delete(index: environment.index, id: "x")
        #expect(missingIndex.result == "not_found")

        _ = try await client.index(index: environment.index, id: "x", document: .object([:]))
        let deleted = try await client.delete(index: environment.index, id: "x", refresh: .waitFor)
        let again = try await client.delete(index: environment.index, id: "x")

        #expect(deleted.result == "deleted")
        #expect(again.result == "not_found")
        #expect(try await client.get(index: environment.index, id: "x") == nil)
        #expect(try await environment.fixtures.count(index: environment.index) == 0)
    }

    @Test("a conditional delete with a stale seq_no is a 409 conflict and keeps the document")
    func conditionalDeleteConflict() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        _ = try await client.index(index: environment.index, id: "d", document: .object(["v": .number("1")]))
        let read = try #require(try await client.get(index: environment.index, id: "d"))
        _ = try await client.index(index: environment.index, id: "d", document: .object(["v": .number("2")]))

        let error = await #expect(throws: OpenSearchError.self) {
            try await client.delete(index: environment.index, id: "d", condition: read.unchangedCondition)
        }
        #expect(error?.code == .conflict)
        #expect(try await environment.fixtures.source(index: environment.index, id: "d") == .object(["v": .number("2")]))

        let current = try #require(try await client.get(index: environment.index, id: "d"))
        let deleted = try await client.delete(index: environment.index, id: "d", condition: current.unchangedCondition)
        #expect(deleted.result == "deleted")
    }

    @Test("malformed calls are refused before sending: empty id, createOnly delete")
    func refusedLocally() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let proxy = try await FaultProxy.start(upstream: environment.server.url)
        let client = environment.client(endpoint: proxy.url)

        let emptyID = await #expect(throws: OpenSearchError.self) {
            try await client.get(index: environment.index, id: "")
        }
        let createOnlyDelete = await #expect(throws: OpenSearchError.self) {
            try await client.delete(index: environment.index, id: "x", condition: .createOnly)
        }
        let bulkCreateOnlyDelete = await #expect(throws: OpenSearchError.self) {
            try await client.bulk(index: environment.index, operations: [.delete(id: "x", condition: .createOnly)])
        }
        #expect(emptyID?.code == .clientError)
        #expect(createOnlyDelete?.code == .clientError)
        #expect(bulkCreateOnlyDelete?.code == .clientError)
        #expect(proxy.requestCount == 0)
    }

    @Test("createIndexIfMissing twice is fine and applies settings the first time")
    func createIndexTwice() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        try await client.createIndexIfMissing(index: environment.index, settings: .object(["index.gc_deletes": .string("60s")]))
        try await client.createIndexIfMissing(index: environment.index)

        let settings = try await environment.fixtures.json(.GET, "/\(environment.index)/_settings")
        #expect(settings[environment.index]?["settings"]?["index"]?["gc_deletes"]?.stringValue == "60s")
        #expect(try await environment.fixtures.count(index: environment.index) == 0)
    }

    @Test("createIndexIfMissing sends a whole body with mappings as given")
    func createIndexWithMappings() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let body = try JSONValue(parsing: #"{"mappings": {"properties": {"name": {"type": "keyword"}}}}"#)
        try await client.createIndexIfMissing(index: environment.index, settings: body)

        let mapping = try await environment.fixtures.json(.GET, "/\(environment.index)/_mapping")
        #expect(mapping[environment.index]?["mappings"]?["properties"]?["name"]?["type"]?.stringValue == "keyword")
    }

    @Test("refresh of an existing index succeeds; of a missing one is notFound with the index named")
    func refreshIndex() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        let client = environment.client()
        let error = await #expect(throws: OpenSearchError.self) {
            try await client.refresh(index: environment.index)
        }
        #expect(error?.code == .notFound)
        #expect(error?.type == "index_not_found_exception")
        #expect(error?.index == environment.index)

        try await client.createIndexIfMissing(index: environment.index)
        try await client.refresh(index: environment.index)
    }

    @Test("ping succeeds against a running server")
    func pingRunning() async throws {
        let environment = try await OpenSearchTestEnvironment.start()
        try await environment.client().ping()
    }
}
