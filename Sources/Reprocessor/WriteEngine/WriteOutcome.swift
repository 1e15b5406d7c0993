import OpenSearchClient

/// What the answer to one write of a `_bulk` means to the write engine (DESIGN §5): a pure
/// reading of the item, so each OpenSearch error type is decided in one place. The order of the
/// rules matters and is part of the contract (see `docs/engine.md`).
enum WriteOutcome: Sendable {
    /// The write did what was asked (2xx, or a delete of a document already gone).
    case landed(BulkItemResult)
    /// 409 (`version_conflict_engine_exception`): the document changed since it was read, or this
    /// very write landed by an earlier attempt whose answer was lost. Search is read again to tell.
    case conflict
    /// 429 or 5xx on the item (`es_rejected_execution_exception`, a shard unavailable, a
    /// `cluster_block_exception` the cluster answers with 429 or 503): worth sending again later.
    case retryLater(status: Int)
    /// `cluster_block_exception` with any other status (a read-only index, 403): search refuses
    /// writes as a whole; the line says why.
    case writeBlocked(String)
    /// The document's own error (`mapper_parsing_exception`, `illegal_argument_exception`, 413,
    /// a 404 that is not a delete of a gone document, …): the line to record against the change.
    case documentError(String)
    /// The request carrying the write failed whole (connection, timeout, retries spent): whether
    /// it landed is unknown, so its intent stays open for recovery.
    case outage(OpenSearchError)

    /// Classifies one operation's outcome as `bulkSettled` returns it.
    static func classify(_ outcome: Result<BulkItemResult, OpenSearchError>) -> WriteOutcome {
        switch outcome {
        case .failure(let error): .outage(error)
        case .success(let item): classify(item)
        }
    }

    /// Classifies one `_bulk` item: landed, then 409, then 429/5xx, then a cluster block, and any
    /// other refusal is the document's own.
    static func classify(_ item: BulkItemResult) -> WriteOutcome {
        if item.isSuccess { return .landed(item) }
        if item.status == 409 { return .conflict }
        if item.isRetryable { return .retryLater(status: item.status) }
        if item.errorType == "cluster_block_exception" {
            return .writeBlocked("search refuses writes: \(item.errorReason ?? "cluster_block_exception")")
        }
        return .documentError(
            "OpenSearch \(item.status) \(item.errorType ?? "error"): \(item.errorReason ?? "no reason given")")
    }
}
