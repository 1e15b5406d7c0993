import StreamModel

/// One operation of a `_bulk` request.
public enum BulkOperation: Sendable, Hashable {
    /// Index `document` under `id` (`index`, or `create` when the condition is ``WriteCondition/createOnly``).
    case index(id: String, document: JSONValue, condition: WriteCondition?)
    /// Delete the document `id`. ``WriteCondition/createOnly`` does not apply to deletes.
    case delete(id: String, condition: WriteCondition?)

    /// The document id the operation is about.
    public var id: String {
        switch self {
        case .index(let id, _, _), .delete(let id, _): id
        }
    }
}

/// What OpenSearch answered for one operation of a `_bulk` request.
public struct BulkItemResult: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// The item's HTTP status, such as 201, 409 or 404.
    public var status: Int
    /// OpenSearch's `result` (`created`, `updated`, `deleted`, `not_found`), when the item did not fail.
    public var result: String?
    /// `_seq_no` after the write, when reported.
    public var seqNo: Int64?
    /// `_primary_term` after the write, when reported.
    public var primaryTerm: Int64?
    /// The item's `error.type`, such as `version_conflict_engine_exception`.
    public var errorType: String?
    /// The item's `error.reason`.
    public var errorReason: String?

    /// Creates an item result.
    /// - Parameters:
    ///   - id: The document id.
    ///   - status: The item's HTTP status.
    ///   - result: OpenSearch's `result`.
    ///   - seqNo: `_seq_no` after the write.
    ///   - primaryTerm: `_primary_term` after the write.
    ///   - errorType: The item's `error.type`.
    ///   - errorReason: The item's `error.reason`.
    public init(
        id: String, status: Int, result: String? = nil, seqNo: Int64? = nil, primaryTerm: Int64? = nil,
        errorType: String? = nil, errorReason: String? = nil
    ) {
        self.id = id
        self.status = status
        self.result = result
        self.seqNo = seqNo
        self.primaryTerm = primaryTerm
        self.errorType = errorType
        self.errorReason = errorReason
    }

    /// Whether the operation did what was asked: a 2xx status, or a delete
    /// of a document that was already gone (404 with result `not_found`).
    public var isSuccess: Bool {
        (200..<300).contains(status) || (status == 404 && result == "not_found")
    }

    /// Whether sending the same operation again later may succeed (429 or 5xx).
    public var isRetryable: Bool { status == 429 || status >= 500 }
}
