import AWSClients
import AuditLog
import Foundation
import Metrics
import OpenSearchClient

/// The reprocessor's metrics, through swift-metrics.
///
/// They are no-ops until a process bootstraps a metrics factory (`serve` does,
/// with Prometheus); the command line never does. Handles are made at each
/// use, so they always bind to the bootstrapped factory.
public enum ReprocessorMetrics {
    /// Metric names, as `/metrics` shows them.
    public enum Name {
        /// Counter: SQS messages received (re-deliveries included).
        public static let messagesReceived = "dlq_messages_received_total"
        /// Counter: messages stored in the audit log for the first time.
        public static let messagesIngested = "dlq_messages_ingested_total"
        /// Counter: messages stored as quarantined.
        public static let messagesQuarantined = "dlq_messages_quarantined_total"
        /// Gauge, label `status`: changes in each status.
        public static let changes = "dlq_changes"
        /// Counter, label `outcome`: replay outcomes (applied, superseded, failed, parked, conflict, unavailable).
        public static let applyOutcomes = "dlq_apply_outcomes_total"
        /// Histogram: seconds one apply round (one `_mget` and one `_bulk`) took.
        public static let applyDuration = "dlq_apply_duration_seconds"
        /// Counter, label `kind`: failed AWS calls by error code.
        public static let awsErrors = "dlq_aws_errors_total"
        /// Counter, label `kind`: failed OpenSearch calls by error code.
        public static let openSearchErrors = "dlq_opensearch_errors_total"
        /// Gauge: age in seconds of the oldest pending or failed change (0 when none).
        public static let oldestPendingAge = "dlq_oldest_pending_change_age_seconds"
        /// Gauge: 1 while replay is paused because search as a whole is failing, else 0.
        public static let replayPaused = "dlq_replay_paused"
        /// Gauge: Unix time of the last successful run (0 when never).
        public static let lastSuccessfulRun = "dlq_last_successful_run_timestamp_seconds"
        /// Gauge, label `status`: failed batches in each status.
        public static let batches = "dlq_batches"
        /// Gauge: seconds the longest-waiting pending batch has waited for its records (0 when none).
        public static let oldestWaitingBatchAge = "dlq_oldest_waiting_batch_age_seconds"
        /// Histogram: seconds from a change's DLQ message being sent (`SentTimestamp`) to the
        /// change being applied to search: freshness, as the lease holder observes the store.
        public static let changeLag = "dlq_change_lag_seconds"
        /// Gauge: seconds the pending batch nearest its stream's retention has left before its
        /// records are trimmed (24 hours when no batch is pending; negative once past).
        public static let batchRetentionLeft = "dlq_batch_retention_left_seconds"
        /// Gauge: streams that cannot be found or described (a configuration error: their batches wait).
        public static let streamsUnavailable = "dlq_streams_unavailable"
        /// Gauge: 1 while this process holds the run lease (ingest and replay run), 0 while it waits.
        public static let runLeaseHeld = "dlq_run_lease_held"
        /// Gauge: 1 while `serve`'s drain waits for a batch past the priority share of its stream's retention.
        public static let drainYielding = "dlq_drain_yielding"
        /// Gauge: actions in the audit chain (the head's count), set by `serve` at each interval.
        public static let auditChainActions = "dlq_audit_chain_actions"
        /// Gauge, label `kind`: differences the newest reconcile run found (missing, stale, orphaned, differs).
        public static let reconcileDrift = "dlq_reconcile_drift"
        /// Gauge: Unix time the newest reconcile run started (absent before any run).
        public static let reconcileLastRun = "dlq_reconcile_last_run_timestamp_seconds"
    }

    /// Creates every counter at zero, so that a scrape lists them before anything happened.
    public static func registerAll() {
        for name in [Name.messagesReceived, Name.messagesIngested, Name.messagesQuarantined] {
            Counter(label: name).increment(by: 0)
        }
        recordReplayPaused(false)
        recordDrainYielding(false)
        for outcome in [ChangeOutcome.applied, .superseded, .failed, .parked, .conflict, .unavailable] {
            Counter(label: Name.applyOutcomes, dimensions: [("outcome", outcome.rawValue)]).increment(by: 0)
        }
        for kind in [AWSError.Code.connection, .timeout, .throttling, .serverError, .clientError] {
            Counter(label: Name.awsErrors, dimensions: [("kind", kind.description)]).increment(by: 0)
        }
        for kind in [OpenSearchError.Code.connection, .timeout, .serverError, .rejected, .clientError] {
            Counter(label: Name.openSearchErrors, dimensions: [("kind", kind.description)]).increment(by: 0)
        }
    }

    /// Sets `dlq_drain_yielding`: whether the drain waits for batch reads.
    public static func recordDrainYielding(_ yielding: Bool) {
        Gauge(label: Name.drainYielding).record(yielding ? 1 : 0)
    }

    /// Says whether replay is paused because search as a whole is failing.
    public static func recordReplayPaused(_ paused: Bool) {
        Gauge(label: Name.replayPaused).record(paused ? 1 : 0)
    }

    /// Counts what one received group did.
    static func record(_ summary: IngestSummary) {
        Counter(label: Name.messagesReceived).increment(by: summary.messagesReceived)
        Counter(label: Name.messagesIngested).increment(by: summary.messagesStored)
        Counter(label: Name.messagesQuarantined).increment(by: summary.quarantined)
    }

    /// Counts apply outcomes and the round's duration.
    static func record(_ results: [OperationResult], duration: Duration) {
        CoreMetrics.Timer(label: Name.applyDuration).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        for result in results where result.outcome != .deferred {
            Counter(label: Name.applyOutcomes, dimensions: [("outcome", result.outcome.rawValue)]).increment()
        }
    }

    /// Counts a failed AWS or OpenSearch call by its error code; other errors are not counted.
    /// - Parameter error: The error a call threw.
    public static func recordFailure(_ error: any Error) {
        if let error = error as? AWSError {
            Counter(label: Name.awsErrors, dimensions: [("kind", error.code.description)]).increment()
        } else if let error = error as? OpenSearchError {
            Counter(label: Name.openSearchErrors, dimensions: [("kind", error.code.description)]).increment()
        }
    }

    /// Bucket bounds of ``Name/changeLag``: a second to a day (the stream's retention).
    public static let changeLagBuckets: [Duration] = [
        .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
        .seconds(3600), .seconds(4 * 3600), .seconds(12 * 3600), .seconds(24 * 3600),
    ]

    /// Records the sent → applied lags of changes into ``Name/changeLag``.
    /// - Parameter lags: The lags observed.
    public static func record(lags: [AppliedLag]) {
        let timer = CoreMetrics.Timer(label: Name.changeLag)
        for lag in lags { timer.recordNanoseconds(Int64(min(lag.seconds, 1e9) * 1e9)) }
    }

    /// Sets the audit chain gauge to the head's count.
    /// - Parameter head: The chain's head.
    public static func record(_ head: ChainHead) {
        Gauge(label: Name.auditChainActions).record(head.count)
    }

    /// Sets the gauges that describe the audit log: changes by status, oldest pending age, last run,
    /// batches by status, the oldest waiting batch's age and the streams that cannot be described.
    /// - Parameters:
    ///   - stats: The audit log's counts.
    ///   - now: The time ages are measured at.
    public static func record(_ stats: AuditStats, now: Date = Date()) {
        for status in ChangeStatus.allCases {
            Gauge(label: Name.changes, dimensions: [("status", status.rawValue)]).record(stats.changes[status] ?? 0)
        }
        Gauge(label: Name.oldestPendingAge).record(
            stats.oldestPendingCreatedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        Gauge(label: Name.lastSuccessfulRun).record(stats.lastRunAt?.timeIntervalSince1970 ?? 0)
        for status in BatchStatus.allCases {
            Gauge(label: Name.batches, dimensions: [("status", status.rawValue)]).record(stats.batches[status] ?? 0)
        }
        Gauge(label: Name.oldestWaitingBatchAge).record(
            stats.oldestWaitingBatchSince.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        Gauge(label: Name.streamsUnavailable).record(stats.streamProblems.count)
        Gauge(label: Name.batchRetentionLeft).record(
            stats.mostUrgentBatchLastRecordAt.map { DLQIngestor.retentionLeft(lastRecordAt: $0, now: now) }
                ?? DLQIngestor.streamRetention)
        if let run = stats.lastReconcile { record(reconcile: run) }
    }

    /// Sets the reconcile gauges from a run: drift found by kind and when it started.
    /// - Parameter run: The newest reconcile run.
    public static func record(reconcile run: ReconcileRun) {
        for kind in DriftKind.allCases {
            Gauge(label: Name.reconcileDrift, dimensions: [("kind", kind.rawValue)]).record(run.found[kind.rawValue] ?? 0)
        }
        Gauge(label: Name.reconcileLastRun).record(run.startedAt.timeIntervalSince1970)
    }

    /// Sets the run-lease gauge.
    /// - Parameter held: Whether this process holds the run lease.
    public static func recordLeaseHeld(_ held: Bool) {
        Gauge(label: Name.runLeaseHeld).record(held ? 1 : 0)
    }
}
