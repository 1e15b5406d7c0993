import Foundation
import StreamModel

/// Where a change stands. Raw values are what the database stores and the CLI prints.
public enum ChangeStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting to be applied.
    case pending
    /// In the search index.
    case applied
    /// The last apply failed; retried automatically after `nextAttemptAt`.
    case failed
    /// Failed too often; waits for an operator.
    case parked
    /// Deliberately not applied by an operator.
    case skipped
    /// Its old image was restored in the search index.
    case rolledBack = "rolled_back"
    /// A newer change to the same document is already in the search index.
    case superseded
    /// Not an artist record: never applied (terminal).
    case filtered
    /// Its batch was trimmed from the stream before the records could be read.
    case expired
}
