import AuditLog
import Foundation

/// A worker task reading batches from their streams on a shared store, where every worker of
/// the fleet reads them: each batch is claimed before it is read (as documents are claimed
/// before they are replayed, in `document_claims` under the key `batch:<id>`), so two workers
/// never read one batch at once, and released when its pass ends. A worker that dies leaves a
/// claim that expires after `ttl`. A claim that expires while its reader is still at work lets
/// another worker read the batch too; that costs stream reads, never a change twice (ingest is
/// idempotent by stream ARN and sequence number).
public struct BatchReader: Sendable {
    /// The claimant: the worker's run lease holder id and the task, such as `host:pid/run/batches`.
    public var holder: String
    /// How long a claim lasts without being released.
    public var ttl: Duration

    /// Makes a reader.
    /// - Parameters:
    ///   - holder: The claimant id.
    ///   - ttl: How long a claim lasts.
    public init(holder: String, ttl: Duration) {
        self.holder = holder
        self.ttl = ttl
    }

    /// The claim key of a batch (document ids are artist ids, so the two never meet).
    static func key(_ batchID: Int64) -> String { "batch:\(batchID)" }
}

extension DLQIngestor {
    /// Reads one batch as ``read(_:fence:)`` does; with a reader, only once it has claimed the
    /// batch and found it still pending (another worker may have finished it since it was
    /// listed as due), releasing the claim when done, whatever happened.
    func read(_ batch: BatchRecord, fence: LeaseFence?, claimingAs reader: BatchReader?) async throws -> IngestSummary {
        guard let reader else { return try await read(batch, fence: fence) }
        let claims = try await auditLog.claimDocuments(
            [BatchReader.key(batch.id)], holder: reader.holder, ttl: reader.ttl, now: Date())
        guard claims.holds(BatchReader.key(batch.id)) else { return IngestSummary() }
        do {
            var summary = IngestSummary()
            if let current = try await auditLog.batch(id: batch.id), current.status == .pending {
                summary = try await read(current, fence: fence)
            }
            try await auditLog.releaseClaims(claims)
            return summary
        } catch {
            try? await auditLog.releaseClaims(claims)
            throw error
        }
    }
}
