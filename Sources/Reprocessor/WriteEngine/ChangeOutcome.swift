import AuditLog

/// What happened to one change: the one vocabulary of the write engine, shared by the
/// command line, the JSON output and the HTTP API. Raw values are what they print.
public enum ChangeOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    /// In search now (written, or already there).
    case applied
    /// A newer state was already in search or the table, or a newer change was written in its
    /// place (coalesced); nothing older was written.
    case superseded
    /// The write failed for this document's own reason; tried again after a backoff.
    case failed
    /// Failed `maxAttempts` times for its own reason; an operator must act.
    case parked
    /// Held back behind an earlier change of the same document that is parked or backing off.
    case deferred
    /// Another process moved the change (or the document) first; nothing was written for it,
    /// its status is what that process left.
    case conflict
    /// Search (or the table) could not be reached; the change stays due, no attempt counted.
    case unavailable
    /// Marked as deliberately not applied.
    case skipped
    /// Its old image was restored (or the document deleted, for an insert).
    case rolledBack = "rolled_back"
    /// The document was made to match the table's current item.
    case resynced
    /// The command does not apply to the change in its status.
    case refused
    /// No change has that id.
    case notFound = "not_found"
    /// Dry run: retry would replay it.
    case wouldRetry = "would_retry"
    /// Dry run: skip would mark it skipped.
    case wouldSkip = "would_skip"
    /// Dry run: rollback would restore its old image.
    case wouldRollBack = "would_roll_back"
    /// Dry run: resync would rewrite the document from the table.
    case wouldResync = "would_resync"

    /// Whether the outcome means a command did not do what was asked (exit status 1).
    public var isFailure: Bool {
        switch self {
        case .failed, .parked, .conflict, .unavailable, .refused, .notFound: true
        default: false
        }
    }
}

/// The result of a command or a replay pass on one change (`{"id", "outcome", "status", "message"}` in JSON).
public struct OperationResult: Sendable, Hashable {
    /// The change.
    public var id: Int64
    /// What happened.
    public var outcome: ChangeOutcome
    /// The change's status afterwards (nil when the change does not exist).
    public var status: ChangeStatus?
    /// One line saying why.
    public var message: String

    /// Makes a result.
    public init(id: Int64, outcome: ChangeOutcome, status: ChangeStatus?, message: String) {
        self.id = id
        self.outcome = outcome
        self.status = status
        self.message = message
    }

    /// Whether the outcome means the command did not do what was asked.
    public var isFailure: Bool { outcome.isFailure }
}

/// What a replay pass did.
public struct ReplaySummary: Sendable, Hashable, Codable {
    /// Changes now in search.
    public var applied = 0
    /// Changes overtaken by newer state (including those coalesced into a newer write).
    public var superseded = 0
    /// Changes that failed for their own reason and will be retried.
    public var failed = 0
    /// Changes parked for an operator.
    public var parked = 0
    /// Changes held back behind an earlier parked or backing-off change of the same document.
    public var deferred = 0
    /// Changes another process settled first.
    public var conflict = 0
    /// Changes left due because search or the table could not be reached.
    public var unavailable = 0
    /// Writes sent to search (one per document touched, whatever its number of changes).
    public var writes = 0
    /// Interrupted writes of an earlier pass found in search and recorded.
    public var recovered = 0
    /// Why the pass stopped early, when search as a whole was failing.
    public var pausedReason: String?

    /// An empty summary.
    public init() {}

    /// Adds `other`'s counts (another worker's pass over the same store); the first pause reason is kept.
    public mutating func add(_ other: ReplaySummary) {
        applied += other.applied
        superseded += other.superseded
        failed += other.failed
        parked += other.parked
        deferred += other.deferred
        conflict += other.conflict
        unavailable += other.unavailable
        writes += other.writes
        recovered += other.recovered
        pausedReason = pausedReason ?? other.pausedReason
    }

    mutating func count(_ outcome: ChangeOutcome) {
        switch outcome {
        case .applied, .resynced, .rolledBack: applied += 1
        case .superseded: superseded += 1
        case .failed: failed += 1
        case .parked: parked += 1
        case .deferred: deferred += 1
        case .conflict: conflict += 1
        case .unavailable: unavailable += 1
        case .skipped, .refused, .notFound, .wouldRetry, .wouldSkip, .wouldRollBack, .wouldResync: break
        }
    }
}
