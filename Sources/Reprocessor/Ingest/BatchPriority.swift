import AuditLog
import Foundation

extension DLQIngestor {
    /// The due batch that should be read before anything more is drained: the pending batch
    /// nearest its stream's retention, when its last record is older than `share` of the
    /// stream's 24-hour retention. `serve` stops receiving while there is one, so the records a
    /// pointer names are read before the stream trims them; what is not received stays in SQS.
    /// - Parameters:
    ///   - share: The share of the retention past which a batch takes priority (0 to 1).
    ///   - now: The time to judge ages by.
    /// - Returns: The batch, or nil when no due batch is that old.
    public func batchTakingPriority(share: Double, now: Date = Date()) async throws -> BatchRecord? {
        guard let oldest = try await auditLog.dueBatches(now: now, limit: 1).first else { return nil }
        let age = now.timeIntervalSince(oldest.lastRecordAt)
        return age >= share * Self.streamRetention ? oldest : nil
    }
}
