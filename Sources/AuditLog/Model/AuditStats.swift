import Foundation
import StreamModel

/// Counts for `stats`.
public struct AuditStats: Sendable, Hashable {
    /// Changes per status; every status is present, zeros included.
    public var changes: [ChangeStatus: Int]
    /// Messages stored.
    public var messagesTotal: Int
    /// Messages stored as quarantined.
    public var messagesQuarantined: Int
    /// Creation time of the oldest change in pending or failed.
    public var oldestPendingCreatedAt: Date?
    /// When the last run finished (``AuditLog/recordRun(finishedAt:)``).
    public var lastRunAt: Date?
    /// Batches per status; every status is present, zeros included.
    public var batches: [BatchStatus: Int]
    /// Since when the longest-waiting pending batch has waited.
    public var oldestWaitingBatchSince: Date?
    /// The run lease row (nil before any run took it).
    public var runLease: LeaseState?
    /// Why replay is paused and since when (nil when the last pass got through).
    public var replayPause: ReplayPause?
    /// The newest reconcile run, finished or not (nil before any).
    public var lastReconcile: ReconcileRun?
    /// Streams that cannot be found or described: their batches wait for the configuration to be fixed.
    public var streamProblems: [StreamProblem]
    /// When the last record of the pending batch nearest its stream's retention reached the
    /// stream (nil when no batch is pending): the stream keeps it 24 hours from then.
    public var mostUrgentBatchLastRecordAt: Date?

    /// Makes stats.
    public init(
        changes: [ChangeStatus: Int], messagesTotal: Int, messagesQuarantined: Int, oldestPendingCreatedAt: Date?,
        lastRunAt: Date?, batches: [BatchStatus: Int] = [:], oldestWaitingBatchSince: Date? = nil,
        runLease: LeaseState? = nil, replayPause: ReplayPause? = nil, lastReconcile: ReconcileRun? = nil,
        streamProblems: [StreamProblem] = [], mostUrgentBatchLastRecordAt: Date? = nil
    ) {
        self.streamProblems = streamProblems
        self.mostUrgentBatchLastRecordAt = mostUrgentBatchLastRecordAt
        self.changes = changes
        self.messagesTotal = messagesTotal
        self.messagesQuarantined = messagesQuarantined
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
        self.lastRunAt = lastRunAt
        self.batches = batches
        self.oldestWaitingBatchSince = oldestWaitingBatchSince
        self.runLease = runLease
        self.replayPause = replayPause
        self.lastReconcile = lastReconcile
    }
}
