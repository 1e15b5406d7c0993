import OpenSearchClient
import Testing

@testable import Reprocessor

/// An item of a `_bulk` answer for document 42, its reason naming its type.
private func bulkItem(_ status: Int, _ type: String? = nil, result: String? = nil) -> BulkItemResult {
    BulkItemResult(id: "42", status: status, result: result, errorType: type, errorReason: type.map { "reason of \($0)" })
}

/// The write engine's reading of one `_bulk` item (``WriteOutcome/classify(_:)``): a pure
/// function, so every OpenSearch error type it knows is checked here, without a cluster.
@Suite("Write outcome classification")
struct WriteOutcomeTests {
    /// A short name for the class an outcome falls in, so cases compare as strings.
    static func name(_ outcome: WriteOutcome) -> String {
        switch outcome {
        case .landed: "landed"
        case .conflict: "conflict"
        case .retryLater(let status): "retry later \(status)"
        case .writeBlocked: "write blocked"
        case .documentError: "document error"
        case .outage: "outage"
        }
    }

    static func item(_ status: Int, _ type: String? = nil, result: String? = nil) -> BulkItemResult {
        bulkItem(status, type, result: result)
    }

    @Test(
        "each item status and OpenSearch error type falls in its class",
        arguments: [
            (bulkItem(201, result: "created"), "landed"),
            (bulkItem(200, result: "updated"), "landed"),
            (bulkItem(200, result: "deleted"), "landed"),
            (bulkItem(404, result: "not_found"), "landed"),
            (bulkItem(409, "version_conflict_engine_exception"), "conflict"),
            (bulkItem(429, "es_rejected_execution_exception"), "retry later 429"),
            (bulkItem(429, "circuit_breaking_exception"), "retry later 429"),
            (bulkItem(500, "exception"), "retry later 500"),
            (bulkItem(503, "unavailable_shards_exception"), "retry later 503"),
            (bulkItem(503, "cluster_block_exception"), "retry later 503"),
            (bulkItem(429, "cluster_block_exception"), "retry later 429"),
            (bulkItem(403, "cluster_block_exception"), "write blocked"),
            (bulkItem(400, "mapper_parsing_exception"), "document error"),
            (bulkItem(400, "document_parsing_exception"), "document error"),
            (bulkItem(400, "illegal_argument_exception"), "document error"),
            (bulkItem(400, "strict_dynamic_mapping_exception"), "document error"),
            (bulkItem(404, "index_not_found_exception"), "document error"),
            (bulkItem(404, result: "not_found_elsewhere"), "document error"),
            (bulkItem(403, "security_exception"), "document error"),
            (bulkItem(413, "request_entity_too_large"), "document error"),
        ])
    func classifies(_ item: BulkItemResult, _ expected: String) {
        #expect(Self.name(WriteOutcome.classify(item)) == expected, "\(item)")
    }

    @Test("a request that failed whole is an outage: whether the write landed is unknown")
    func requestFailure() {
        let error = OpenSearchError(code: .timeout, reason: "no answer in 30 s")
        guard case .outage(let kept) = WriteOutcome.classify(.failure(error)) else {
            Issue.record("not an outage")
            return
        }
        #expect(kept.code == .timeout)
        #expect(Self.name(WriteOutcome.classify(.success(Self.item(201, result: "created")))) == "landed")
    }

    @Test("a block and a document error carry the line recorded for them")
    func lines() {
        guard case .writeBlocked(let block) = WriteOutcome.classify(Self.item(403, "cluster_block_exception")),
            case .documentError(let error) = WriteOutcome.classify(Self.item(400, "mapper_parsing_exception"))
        else {
            Issue.record("wrong classes")
            return
        }
        #expect(block == "search refuses writes: reason of cluster_block_exception")
        #expect(error == "OpenSearch 400 mapper_parsing_exception: reason of mapper_parsing_exception")
        guard case .documentError(let bare) = WriteOutcome.classify(BulkItemResult(id: "1", status: 400)) else {
            Issue.record("not a document error")
            return
        }
        #expect(bare == "OpenSearch 400 error: no reason given")
        guard
            case .writeBlocked(let untold) = WriteOutcome.classify(
                BulkItemResult(id: "1", status: 403, errorType: "cluster_block_exception"))
        else {
            Issue.record("not a block")
            return
        }
        #expect(untold == "search refuses writes: cluster_block_exception")
    }
}
