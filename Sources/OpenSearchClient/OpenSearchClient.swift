// OpenSearchClient: the few OpenSearch REST calls the reprocessor needs —
// get, multi-get, conditional index and delete, bounded `_bulk`, index
// creation, refresh and ping — over AsyncHTTPClient, with auth none, basic or
// SigV4 and typed errors. It knows nothing of DynamoDB, the DLQ or the audit
// log, and it never decides what to write: callers do.

import AWSClients
import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import StreamModel

/// A client for one OpenSearch cluster (or Amazon OpenSearch Service domain).
///
/// Every call retries 429, 5xx, connection failures and timeouts with the
/// ``RetryPolicy``; other failures throw ``OpenSearchError`` at once, carrying
/// OpenSearch's `error.type` and `error.reason`. Document ids are
/// percent-encoded in paths, so any id is safe.
public struct OpenSearchClient: Sendable {
    /// Scheme, host, port and path prefix of the endpoint, without a trailing
    /// slash, user info, query or fragment.
    let baseURL: String
    let auth: OpenSearchAuth
    let httpClient: HTTPClient
    let retryPolicy: RetryPolicy
    let requestTimeout: Duration
    let maxBulkBytes: Int
    let maxBulkOperations: Int
    let logger: Logger

    /// Creates a client.
    /// - Parameters:
    ///   - endpoint: The cluster URL, `http` or `https`, optionally with a path
    ///     prefix (`https://proxy.example/opensearch`). User info in the URL is ignored:
    ///     pass credentials through `auth`.
    ///   - auth: How requests are authenticated.
    ///   - httpClient: The HTTP client; the process-wide shared one by default.
    ///   - retryPolicy: Backoff for 429, 5xx, connection failures and timeouts.
    ///   - requestTimeout: Limit on each try, response body included.
    ///   - maxBulkBytes: Largest `_bulk` body sent (an operation larger on its own is sent alone).
    ///   - maxBulkOperations: Most operations in one `_bulk` request (and ids in one `_mget`).
    ///   - logger: Where requests (debug) and retries (warning) are logged.
    public init(
        endpoint: URL, auth: OpenSearchAuth = .none, httpClient: HTTPClient = .shared,
        retryPolicy: RetryPolicy = .standard, requestTimeout: Duration = .seconds(30),
        maxBulkBytes: Int = 5 * 1024 * 1024, maxBulkOperations: Int = 1000, logger: Logger
    ) {
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) ?? URLComponents()
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        while components.percentEncodedPath.hasSuffix("/") { components.percentEncodedPath.removeLast() }
        self.baseURL = components.string ?? ""
        self.auth = auth
        self.httpClient = httpClient
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.maxBulkBytes = max(1, maxBulkBytes)
        self.maxBulkOperations = max(1, maxBulkOperations)
        self.logger = logger
    }

    /// The endpoint as shown in errors: no credentials.
    var endpointDescription: String { baseURL }

    /// Reads one document with its `_seq_no` and `_primary_term`.
    /// - Parameters:
    ///   - index: The index name.
    ///   - id: The document id.
    /// - Returns: The document, or nil when it (or the whole index) does not exist.
    /// - Throws: ``OpenSearchError`` for any other failure, such as a closed index.
    public func get(index: String, id: String) async throws(OpenSearchError) -> OpenSearchDocument? {
        try Self.validate(id: id, index: index)
        let request = OpenSearchRequest(method: .GET, path: [index, "_doc", id], index: index, documentID: id)
        let response = try await send(request)
        switch response.status {
        case 200:
            let json = try json(response, request: request)
            guard json["found"]?.boolValue != false else { return nil }
            guard let document = Self.document(from: json) else {
                throw invalidResponse("document without _id, _seq_no, _primary_term or _source", response, request: request)
            }
            return document
        case 404 where Self.meansMissingDocument(response):
            return nil
        default:
            throw responseError(response, request: request)
        }
    }

    /// Reads many documents of one index (`_mget`), in requests of at most
    /// `maxBulkOperations` ids.
    /// - Parameters:
    ///   - index: The index name.
    ///   - ids: Document ids; duplicates are read once.
    /// - Returns: The documents found, by id; missing ids (or a missing index) are absent.
    /// - Throws: ``OpenSearchError`` when a request or any single document fails,
    ///   such as a closed index.
    public func multiGet(index: String, ids: [String]) async throws(OpenSearchError) -> [String: OpenSearchDocument] {
        var seen = Set<String>()
        let uniqueIDs = ids.filter { seen.insert($0).inserted }
        for id in uniqueIDs { try Self.validate(id: id, index: index) }
        var documents: [String: OpenSearchDocument] = [:]
        var start = uniqueIDs.startIndex
        while start < uniqueIDs.endIndex {
            let end = min(start + maxBulkOperations, uniqueIDs.endIndex)
            let batch = Array(uniqueIDs[start..<end])
            let body = JSONValue.object(["ids": .array(batch.map { .string($0) })]).serializedBytes
            let request = OpenSearchRequest(method: .POST, path: [index, "_mget"], body: body, index: index)
            let response = try await send(request)
            switch response.status {
            case 200:
                let json = try json(response, request: request)
                guard let docs = json["docs"]?.arrayValue, docs.count == batch.count else {
                    throw invalidResponse("_mget answer without one entry per id", response, request: request)
                }
                for (id, entry) in zip(batch, docs) {
                    if let error = entry["error"] {
                        let (type, reason) = Self.errorTypeAndReason(inError: error)
                        if type == "index_not_found_exception" { continue }
                        throw OpenSearchError(
                            code: Self.code(forItemErrorType: type), type: type,
                            reason: reason ?? "_mget failed for this document", index: index, documentID: id)
                    }
                    guard entry["found"]?.boolValue == true else { continue }
                    guard let document = Self.document(from: entry) else {
                        throw invalidResponse(
                            "_mget entry without _id, _seq_no, _primary_term or _source", response, request: request)
                    }
                    documents[document.id] = document
                }
            case 404 where Self.meansMissingDocument(response):
                break
            default:
                throw responseError(response, request: request)
            }
            start = end
        }
        return documents
    }

    /// Writes a whole document (`PUT /{index}/_doc/{id}`).
    /// - Parameters:
    ///   - index: The index name.
    ///   - id: The document id.
    ///   - document: The `_source` to store, number text exactly as given.
    ///   - condition: `if_seq_no`/`if_primary_term`, or create-only; nil writes unconditionally.
    ///   - refresh: When the write becomes visible to search.
    /// - Returns: `created` or `updated`, with the new `_seq_no` and `_primary_term`.
    /// - Throws: ``OpenSearchError``: `.conflict` (409) when the condition does not hold,
    ///   `.forbidden` for a write block, `.clientError` for a closed index or a rejected document,
    ///   `.payloadTooLarge` for a document the cluster refuses as too large.
    public func index(
        index: String, id: String, document: JSONValue, condition: WriteCondition? = nil,
        refresh: RefreshPolicy = .none
    ) async throws(OpenSearchError) -> WriteResult {
        try Self.validate(id: id, index: index)
        var query = Self.conditionQuery(condition)
        if refresh != .none { query.append((name: "refresh", value: refresh.rawValue)) }
        let request = OpenSearchRequest(
            method: .PUT, path: [index, "_doc", id], query: query, body: document.serializedBytes, index: index,
            documentID: id)
        let response = try await send(request)
        guard (200..<300).contains(response.status) else { throw responseError(response, request: request) }
        return try writeResult(response, request: request, id: id)
    }

    /// Deletes a document (`DELETE /{index}/_doc/{id}`).
    /// - Parameters:
    ///   - index: The index name.
    ///   - id: The document id.
    ///   - condition: `if_seq_no`/`if_primary_term`; ``WriteCondition/createOnly`` is refused.
    ///   - refresh: When the delete becomes visible to search.
    /// - Returns: `deleted`, or `not_found` when the document (or the whole index)
    ///   was already gone — a delete of a missing document is not an error.
    /// - Throws: ``OpenSearchError``: `.conflict` (409) when the condition does not hold
    ///   (including a conditional delete of a missing document), `.forbidden`, `.clientError`.
    public func delete(
        index: String, id: String, condition: WriteCondition? = nil, refresh: RefreshPolicy = .none
    ) async throws(OpenSearchError) -> WriteResult {
        try Self.validate(id: id, index: index)
        try Self.validateDelete(condition: condition, index: index, id: id)
        var query = Self.conditionQuery(condition)
        if refresh != .none { query.append((name: "refresh", value: refresh.rawValue)) }
        let request = OpenSearchRequest(
            method: .DELETE, path: [index, "_doc", id], query: query, index: index, documentID: id)
        let response = try await send(request)
        switch response.status {
        case 200..<300:
            return try writeResult(response, request: request, id: id)
        case 404 where response.json?["result"]?.stringValue == "not_found":
            return try writeResult(response, request: request, id: id)
        case 404 where Self.meansMissingDocument(response):
            return WriteResult(id: id, result: "not_found")
        default:
            throw responseError(response, request: request)
        }
    }

    // MARK: - Shared pieces

    /// Refuses ids and index names that cannot address a document.
    static func validate(id: String, index: String) throws(OpenSearchError) {
        guard !index.isEmpty else {
            throw OpenSearchError(code: .clientError, reason: "empty index name", documentID: id)
        }
        guard !id.isEmpty else {
            throw OpenSearchError(code: .clientError, reason: "empty document id", index: index)
        }
    }

    /// Refuses ``WriteCondition/createOnly`` on a delete, which has no meaning.
    static func validateDelete(condition: WriteCondition?, index: String, id: String) throws(OpenSearchError) {
        if condition == .createOnly {
            throw OpenSearchError(
                code: .clientError, reason: "createOnly does not apply to a delete", index: index, documentID: id)
        }
    }

    /// Query parameters for a write condition.
    static func conditionQuery(_ condition: WriteCondition?) -> [(name: String, value: String)] {
        switch condition {
        case nil: []
        case .createOnly: [(name: "op_type", value: "create")]
        case .ifSeqNo(let seqNo, let primaryTerm):
            [(name: "if_seq_no", value: String(seqNo)), (name: "if_primary_term", value: String(primaryTerm))]
        }
    }

    /// Whether a 404 says the document is absent: `found: false`, or the index does not exist.
    static func meansMissingDocument(_ response: OpenSearchResponse) -> Bool {
        guard let json = response.json else { return false }
        if json["found"]?.boolValue == false { return true }
        return errorTypeAndReason(inError: json["error"]).type == "index_not_found_exception"
    }

    /// The error code for a per-item error that came without its own status.
    static func code(forItemErrorType type: String?) -> OpenSearchError.Code {
        switch type {
        case "cluster_block_exception", "security_exception": .forbidden
        case "index_closed_exception", "illegal_argument_exception": .clientError
        default: .serverError
        }
    }

    /// A document from a `GET` answer or an `_mget` entry.
    static func document(from json: JSONValue) -> OpenSearchDocument? {
        guard let id = json["_id"]?.stringValue,
            let seqNo = json["_seq_no"]?.numberText.flatMap({ Int64($0) }),
            let primaryTerm = json["_primary_term"]?.numberText.flatMap({ Int64($0) }),
            let source = json["_source"]
        else { return nil }
        return OpenSearchDocument(id: id, seqNo: seqNo, primaryTerm: primaryTerm, source: source)
    }

    /// A write result from an index or delete answer.
    private func writeResult(_ response: OpenSearchResponse, request: OpenSearchRequest, id: String)
        throws(OpenSearchError) -> WriteResult
    {
        let json = try json(response, request: request)
        guard let result = json["result"]?.stringValue else {
            throw invalidResponse("write answer without result", response, request: request)
        }
        return WriteResult(
            id: json["_id"]?.stringValue ?? id, result: result,
            seqNo: json["_seq_no"]?.numberText.flatMap { Int64($0) },
            primaryTerm: json["_primary_term"]?.numberText.flatMap { Int64($0) })
    }
}
