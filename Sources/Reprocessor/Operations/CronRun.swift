import AuditLog
import Foundation
import Logging

/// One scheduled run: drain the DLQ, read the pending batches from their streams, then replay
/// everything due, under the run lease (``RunLease``) so that two runs never overlap.
///
/// On a shared PostgreSQL store runs overlap by design, as a fleet: each drains the queue and
/// replays the documents it claims (``WriteEngine/claiming(as:ttl:)``), and only the run
/// holding the lease also reads batches from their streams.
///
/// The lease is renewed at a third of its time to live while the run works. When a renewal
/// finds that another holder took it over, the work is cancelled and the run throws
/// ``ReprocessorError`` `.leaseLost` naming the new holder; ingest's writes carry the lease's
/// fence, so a run that lost the lease cannot commit them either.
public struct CronRun: Sendable {
    /// What a run did.
    public enum Result: Sendable {
        /// The run happened.
        case ran(ingest: IngestSummary, replay: ReplaySummary, stats: AuditStats)
        /// Another process holds the lease; nothing was done but reading the store's state.
        case leaseHeld(by: String, stats: AuditStats)
    }

    /// What a pass leaves waiting for an operator, one short phrase each (empty when nothing
    /// does): parked or expired changes, expired batches, messages this pass quarantined, and
    /// batches stored longer than `batchWaitAlert` ago and still not read from their streams (a
    /// stream keeps its records for 24 hours only). `run --once` exits 3 when there is any.
    /// - Parameters:
    ///   - stats: The store's state after the pass.
    ///   - quarantined: Messages this pass quarantined.
    ///   - batchWaitAlert: How long a stored batch may wait to be read.
    ///   - now: The time of the check.
    public static func operatorWork(stats: AuditStats, quarantined: Int, batchWaitAlert: Duration, now: Date) -> [String] {
        var work: [String] = []
        func add(_ count: Int, _ what: String) { if count > 0 { work.append("\(count) \(what)") } }
        add(stats.changes[.parked] ?? 0, "parked changes")
        add(stats.changes[.expired] ?? 0, "expired changes")
        add(stats.batches[.expired] ?? 0, "expired batches")
        add(quarantined, "messages quarantined by this pass")
        if let since = stats.oldestWaitingBatchSince {
            let waited = now.timeIntervalSince(since)
            let limit = Double(batchWaitAlert.components.seconds)
            if waited > limit {
                work.append(
                    "a batch has waited \(Int(waited)) s to be read from its stream (over DLQ_BATCH_WAIT_ALERT, "
                        + "\(Int(limit)) s; see the run lease in `stats`)")
            }
        }
        return work
    }

    let reprocessor: Reprocessor
    let holder: String
    let leaseTTL: Duration

    /// Creates a run.
    /// - Parameters:
    ///   - reprocessor: The wired reprocessor.
    ///   - holder: Who holds the lease (the reprocessor's ``Reprocessor/holder`` by default: unique
    ///     per process start, and the holder its write engine's document claims are named after,
    ///     so that the next replayer to take the lease over on a SQLite store releases them).
    ///   - leaseTTL: How long the lease counts as held without a renewal (the settings' by default).
    public init(reprocessor: Reprocessor, holder: String? = nil, leaseTTL: Duration? = nil) {
        self.reprocessor = reprocessor
        self.holder = holder ?? reprocessor.holder
        self.leaseTTL = leaseTTL ?? reprocessor.settings.leaseTTL
    }

    /// Runs once.
    /// - Parameters:
    ///   - options: Limits of the drain.
    ///   - ingestProgress: Running ingest totals.
    ///   - replayProgress: Running replay totals.
    /// - Returns: What happened, or that another run holds the lease.
    /// - Throws: Settings, AWS and audit-log errors that stop the run (the lease is released
    ///   first); ``ReprocessorError`` `.leaseLost` when another holder took the lease over.
    public func run(
        options: IngestOptions,
        ingestProgress: (@Sendable (IngestSummary) -> Void)? = nil,
        replayProgress: (@Sendable (ReplaySummary) -> Void)? = nil
    ) async throws -> Result {
        let auditLog = reprocessor.auditLog
        let fleet = reprocessor.isFleet
        let lease = RunLease(auditLog: auditLog, holder: holder, ttl: leaseTTL)
        let fence = try await lease.acquire()
        let plan = PassPlan(fleet: fleet, fence: fence)
        if let fence {
            reprocessor.logger.info("holding the run lease as \(fence)")
        } else if !plan.works {
            let holder = try await lease.currentHolder() ?? "another process"
            return .leaseHeld(by: holder, stats: try await auditLog.stats())
        } else {
            reprocessor.logger.info("working as one of a fleet, as \(holder); batches are claimed one by one")
        }
        do {
            let result = try await withThrowingTaskGroup(of: Result?.self) { group in
                if fence != nil { group.addTask { try await keepLease(lease) } }
                group.addTask {
                    // Cancelled when the lease is lost: each step stops at its next boundary.
                    let cancelled: @Sendable () -> Bool = { Task.isCancelled }
                    let ingestor = try await reprocessor.makeIngestor(options: options)
                    guard let engine = plan.replayEngine(try await reprocessor.makeWriteEngine()) else {
                        preconditionFailure("a plan that works has an engine to replay with")
                    }
                    var ingest = try await ingestor.drain(
                        fence: plan.ingestFence, progress: ingestProgress, shouldStop: cancelled)
                    ingest.add(
                        try await ingestor.readPendingBatches(
                            fence: plan.ingestFence, reader: plan.batchReader(holder: holder, ttl: leaseTTL),
                            shouldStop: cancelled))
                    if let fence = plan.ingestFence { try await auditLog.checkFence(fence) }
                    let replay = try await engine.replayDue(progress: replayProgress, shouldStop: cancelled)
                    if let fence = plan.ingestFence { try await auditLog.checkFence(fence) }
                    try await auditLog.recordRun(finishedAt: Date())
                    return .ran(ingest: ingest, replay: replay, stats: try await auditLog.stats())
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let next { return next }
                }
                preconditionFailure("the work task always returns a result or throws")
            }
            await lease.release()
            return result
        } catch {
            await lease.release()
            throw error
        }
    }

    /// Renews the lease at a third of its time to live until cancelled; throws `.leaseLost`
    /// naming the new holder when another holder took it over. A renewal that fails (the
    /// database busy) is tried again at the next period: the fence still guards every write.
    private func keepLease(_ lease: RunLease) async throws -> Result? {
        let logger = reprocessor.logger
        while true {
            try await Task.sleep(for: leaseTTL / 3)
            do {
                if case .lost(let current) = try await lease.renew() {
                    let now = current.map { "\($0.holder) (epoch \($0.epoch))" } ?? "nobody"
                    logger.error("lost the run lease to \(now); stopping")
                    throw ReprocessorError(.leaseLost, "lost the run lease to \(now); this run stopped and wrote nothing more")
                }
            } catch let error as ReprocessorError {
                throw error
            } catch is CancellationError {
                return nil
            } catch {
                logger.warning("could not renew the run lease: \(error)")
            }
        }
    }
}
