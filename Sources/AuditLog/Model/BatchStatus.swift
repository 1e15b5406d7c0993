import Foundation
import StreamModel

/// Where a failed batch (a format-A message) is in its life.
public enum BatchStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Records still to read from the stream (possibly after a transient error, with backoff).
    case pending
    /// Every record of the range is stored as a change.
    case read
    /// The stream no longer has the records: trimmed, shard or stream gone, or older than its retention.
    case expired
    /// An operator chose not to read or repair it, with a reason (``AuditLog/skipBatch(_:reason:actor:at:)``).
    case skipped
    /// An expired batch covered by a repairing reconcile run that started after it expired
    /// (`resolve-expired`): search was made to match the table for every artist.
    case resolved
}
