import StreamModel

/// A live document as read: its id, the `_seq_no`/`_primary_term` pair to
/// make a following write conditional on, and its `_source`.
public struct OpenSearchDocument: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// `_seq_no` when read.
    public var seqNo: Int64
    /// `_primary_term` when read.
    public var primaryTerm: Int64
    /// `_source`, number text exactly as stored.
    public var source: JSONValue

    /// Creates a document value.
    /// - Parameters:
    ///   - id: The document id.
    ///   - seqNo: `_seq_no` when read.
    ///   - primaryTerm: `_primary_term` when read.
    ///   - source: `_source`.
    public init(id: String, seqNo: Int64, primaryTerm: Int64, source: JSONValue) {
        self.id = id
        self.seqNo = seqNo
        self.primaryTerm = primaryTerm
        self.source = source
    }

    /// The condition that makes a write succeed only if nobody wrote this
    /// document since it was read.
    public var unchangedCondition: WriteCondition { .ifSeqNo(seqNo, primaryTerm: primaryTerm) }
}

/// What a single-document write did.
public struct WriteResult: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// OpenSearch's `result`: `created`, `updated`, `deleted`, `not_found` or `noop`.
    public var result: String
    /// `_seq_no` after the write, when OpenSearch reported one.
    public var seqNo: Int64?
    /// `_primary_term` after the write, when OpenSearch reported one.
    public var primaryTerm: Int64?

    /// Creates a write result.
    /// - Parameters:
    ///   - id: The document id.
    ///   - result: OpenSearch's `result`.
    ///   - seqNo: `_seq_no` after the write.
    ///   - primaryTerm: `_primary_term` after the write.
    public init(id: String, result: String, seqNo: Int64? = nil, primaryTerm: Int64? = nil) {
        self.id = id
        self.result = result
        self.seqNo = seqNo
        self.primaryTerm = primaryTerm
    }
}

/// When a write may happen.
public enum WriteCondition: Sendable, Hashable {
    /// Only if the document still has this `_seq_no` and `_primary_term`
    /// (`if_seq_no`/`if_primary_term`); otherwise 409.
    case ifSeqNo(Int64, primaryTerm: Int64)
    /// Only if the document does not exist (`op_type=create`); otherwise 409.
    /// Applies to index operations only.
    case createOnly
}

/// When a write becomes visible to search (`refresh`).
public enum RefreshPolicy: String, Sendable {
    /// Do not refresh (`refresh=false`).
    case none = "false"
    /// Refresh the affected shards now (`refresh=true`).
    case immediate = "true"
    /// Answer once a refresh has made the write visible (`refresh=wait_for`).
    case waitFor = "wait_for"
}
