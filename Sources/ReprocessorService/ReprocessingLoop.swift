import AuditLog
import Foundation
import Logging
import Reprocessor
import ServiceLifecycle
import Synchronization

/// The work of `serve`, a pipeline connected through the audit store: drain the DLQ
/// continuously (long polls), read stored batches from their streams as soon as they are due,
/// and replay due changes on an interval — three tasks side by side, none waiting for another to
/// go idle, so a queue that keeps filling never holds back the batches already stored — and
/// hold the run lease all the while, so that `run --once` stands aside.
///
/// Ingest and replay run only while this process holds the lease; without it (another holder,
/// or a renewal that failed) they pause, and the loop says so in its logs, `/readyz` and the
/// `dlq_run_lease_held` gauge. Ingest's writes carry the lease's fence.
///
/// On a shared PostgreSQL store (`fleet`) many `serve` processes work at once: each drains the
/// DLQ, reads the batches it claims and replays the documents it claims, whether or not it
/// holds the lease; the lease only elects the one that runs the scheduled reconcile and
/// observes freshness.
///
/// Batch reads take priority over draining once the due batch nearest its stream's retention
/// is older than `batchPriorityShare` of it: the drain stops receiving (what it has received
/// commits) until no due batch is that old, so a pointer is read before its records are trimmed
/// while the messages not yet received wait in SQS (`dlq_drain_yielding` is 1 meanwhile).
///
/// On graceful shutdown it stops receiving, lets received groups commit and delete (or stay
/// on the queue), ends the replay pass after the batch in flight, and releases the lease.
struct ReprocessingLoop: Service {
    let lease: RunLease
    let control: LoopControl
    let auditLog: AuditLog
    let ingestor: DLQIngestor
    let engine: WriteEngine
    /// The operations the scheduled reconcile runs through.
    let operations: Operations
    let options: ServeOptions
    /// The share of a stream's retention past which a due batch is read before anything more is
    /// drained (`DLQ_BATCH_PRIORITY_SHARE`).
    let batchPriorityShare: Double
    let logger: Logger
    /// Whether this process is one of a fleet on a shared store (its engine claims documents).
    var fleet: Bool { auditLog.isShared }

    /// What stops while this process does not hold the lease, for its log lines.
    var pausedWithoutLease: String {
        fleet ? "the scheduled reconcile waits (ingest, batch reads and replay go on)" : "ingest and replay pause"
    }

    /// Pause after a failed drain before the next.
    let ingestRetryDelay: Duration = .seconds(5)

    func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await keepLease() }
                group.addTask { await drainContinuously() }
                group.addTask { await readBatchesContinuously() }
                group.addTask { await replayOnInterval() }
                if let interval = options.reconcileInterval {
                    group.addTask { await reconcileOnInterval(interval) }
                }
                if let schedule = options.backup {
                    group.addTask { await backupOnInterval(schedule) }
                }
            }
            await lease.release()
            ReprocessorMetrics.recordLeaseHeld(false)
            logger.notice("stopped; released the run lease")
        } onGracefulShutdown: {
            control.stop()
            logger.notice("stopping: no more receives; finishing the work in flight")
        }
    }

    /// Takes the lease once, before the service starts, so a lone `serve` is ready at once.
    func takeLeaseAtStart() async {
        await tryToTakeLease(reported: nil)
    }

    /// Keeps the lease: renews it at a third of its lifetime while held, else tries to take
    /// it every two seconds at most (a dead holder's lease comes free at once).
    func keepLease() async {
        // The holder the start already reported waiting on, so it is not logged twice.
        var reportedHolder = control.waitingOn
        while !control.isStopping {
            if control.fence != nil {
                do {
                    if case .lost(let current) = try await lease.renew() {
                        let holder = current.map { "\($0.holder) (epoch \($0.epoch))" } ?? "nobody"
                        control.setFence(nil, waitingOn: current?.holder)
                        logger.error("lost the run lease to \(holder); \(pausedWithoutLease) until it is taken back")
                    }
                } catch {
                    control.setFence(nil, waitingOn: nil)
                    logger.error("could not renew the run lease, so it is not held: \(error); \(pausedWithoutLease)")
                }
            }
            if control.fence == nil {
                reportedHolder = await tryToTakeLease(reported: reportedHolder)
            }
            ReprocessorMetrics.recordLeaseHeld(control.fence != nil)
            await pause(control.fence != nil ? options.leaseTTL / 3 : min(options.leaseTTL / 3, .seconds(2)))
        }
    }

    /// One try at the lease; returns the holder it waits on (logged once per holder).
    @discardableResult
    private func tryToTakeLease(reported: String?) async -> String? {
        do {
            if let fence = try await lease.acquire() {
                control.setFence(fence, waitingOn: nil)
                ReprocessorMetrics.recordLeaseHeld(true)
                logger.notice("holding the run lease as \(fence)")
                return nil
            }
            let current = try await lease.currentHolder() ?? "another process"
            control.setFence(nil, waitingOn: current)
            if reported != current {
                logger.notice("waiting for the run lease, held by \(current); \(pausedWithoutLease)")
            }
            return current
        } catch {
            logger.warning("could not take the run lease: \(error)")
            return reported
        }
    }

    /// Drains the DLQ again and again; each drain long-polls and returns when a receive comes
    /// back empty. Stored batches are read beside it (``readBatchesContinuously()``).
    func drainContinuously() async {
        while !control.isStopping {
            let fence = control.fence
            let plan = PassPlan(fleet: fleet, fence: fence)
            guard plan.works else {
                await pause(.seconds(1))
                continue
            }
            guard control.drainYieldsTo == nil else {
                await pause(.seconds(1), orWhenWoken: .drain)
                continue
            }
            do {
                // The batch reader checks before each of its passes; checking here too means a
                // drain never starts receiving while an urgent batch is already stored.
                if let urgent = try await ingestor.batchTakingPriority(share: batchPriorityShare) {
                    await yieldDrain(to: urgent)
                    continue
                }
                let yields: @Sendable () -> Bool = { control.drainYieldsTo != nil }
                let stop: @Sendable () -> Bool = { control.isStopping || control.fence != fence || yields() }
                // Each committed group wakes the stage it feeds: batch reads, or replay.
                let summary = try await ingestor.drain(
                    fence: plan.ingestFence,
                    progress: { progress in
                        if progress.batchesStored > 0 { control.wake(.batchReads) }
                        if progress.changesStored > 0 { control.wake(.replay) }
                    }, shouldStop: fleet ? { control.isStopping || yields() } : stop)
                control.setIngestHealthy(true)
                if summary.messagesReceived > 0 {
                    logger.info(
                        "ingested \(summary.messagesReceived) messages: \(summary.changesStored) new changes, \(summary.quarantined) quarantined, \(summary.batchesStored) batches stored"
                    )
                } else if options.ingest.waitTimeSeconds == 0 {
                    await pause(.seconds(1))
                }
            } catch let error as AuditLogError where error.code == .leaseLost {
                control.setFence(nil, waitingOn: nil)
                logger.error("ingest stopped: \(error); \(pausedWithoutLease) until the lease is taken back")
            } catch {
                control.setIngestHealthy(false)
                ReprocessorMetrics.recordFailure(error)
                logger.error("ingest failed; trying again in \(ingestRetryDelay.components.seconds) s: \(error)")
                await pause(ingestRetryDelay)
            }
        }
    }

    /// Reads the due batches from their streams while this process holds the lease (in a fleet,
    /// always: every worker reads, claiming each batch first), beside the drain: a batch stored
    /// by a drain that is still receiving is read within about a second. Looks again every
    /// second when nothing is due.
    func readBatchesContinuously() async {
        let reader = PassPlan(fleet: fleet, fence: nil).batchReader(holder: lease.holder, ttl: options.leaseTTL)
        while !control.isStopping {
            let fence = control.fence
            let plan = PassPlan(fleet: fleet, fence: fence)
            guard plan.works else {
                await yieldDrain(to: nil)
                await pause(.seconds(1))
                continue
            }
            do {
                await yieldDrain(to: try await ingestor.batchTakingPriority(share: batchPriorityShare))
                let summary = try await ingestor.readPendingBatches(
                    fence: plan.ingestFence, reader: reader,
                    shouldStop: { control.isStopping || (!fleet && control.fence != fence) })
                if summary.changesStored > 0 { control.wake(.replay) }
                if summary.batchesRead + summary.batchesDelayed + summary.expired > 0 {
                    logger.info(
                        "batches: \(summary.batchesRead) read (\(summary.changesStored) new changes), \(summary.batchesDelayed) put off, \(summary.expired) expired"
                    )
                } else {
                    await pause(.seconds(1), orWhenWoken: .batchReads)
                }
            } catch let error as AuditLogError where error.code == .leaseLost {
                await yieldDrain(to: nil)
                control.setFence(nil, waitingOn: nil)
                logger.error("batch reads stopped: \(error); \(pausedWithoutLease) until the lease is taken back")
            } catch {
                // A failing pass must not hold the drain back: it retries, and so does the drain.
                await yieldDrain(to: nil)
                ReprocessorMetrics.recordFailure(error)
                logger.error("reading batches failed; trying again in \(ingestRetryDelay.components.seconds) s: \(error)")
                await pause(ingestRetryDelay)
            }
        }
    }

    /// Makes the drain stop receiving while `batch` (due, and past the priority share of its
    /// stream's retention) waits to be read, or lets it go on (nil); says so when that changes.
    func yieldDrain(to batch: BatchRecord?) async {
        let previous = control.drainYieldsTo
        guard previous != batch?.id else { return }
        control.setDrainYieldsTo(batch?.id)
        ReprocessorMetrics.recordDrainYielding(batch != nil)
        if let batch {
            control.wake(.batchReads)
            let left = DLQIngestor.retentionLeft(lastRecordAt: batch.lastRecordAt, now: Date())
            logger.warning(
                "draining waits: batch \(batch.id) has \(Int(left)) s left of its stream's 24 h retention (past DLQ_BATCH_PRIORITY_SHARE \(batchPriorityShare)); batches are read first, messages not received stay in SQS",
                metadata: ["batchId": "\(batch.id)"])
        } else {
            logger.notice("draining again: no due batch is past DLQ_BATCH_PRIORITY_SHARE of its stream's retention")
            control.wake(.drain)
        }
    }

    /// Replays due changes every interval while the lease is held; a pass after a successful
    /// drain (and no failed one since) counts as a successful run.
    func replayOnInterval() async {
        while !control.isStopping {
            await prepareFreshness()
            let fence = control.fence
            let plan = PassPlan(fleet: fleet, fence: fence)
            if let passEngine = plan.replayEngine(engine) {
                do {
                    // Alone, the pass ends once the lease moved; a fleet's engine claims each document.
                    let summary = try await passEngine.replayDue(shouldStop: {
                        control.isStopping || (plan.ingestFence != nil && control.fence != fence)
                    })
                    if let fence = plan.ingestFence { try await auditLog.checkFence(fence) }
                    if let reason = summary.pausedReason {
                        // Search as a whole is failing: no attempts were counted; probe before the next pass.
                        logger.warning("replay paused: \(reason); probing search before resuming")
                        ReprocessorMetrics.recordReplayPaused(true)
                        await waitForSearch()
                        ReprocessorMetrics.recordReplayPaused(false)
                        continue
                    }
                    if control.ingestHealthy {
                        try await auditLog.recordRun(finishedAt: Date())
                    }
                    if summary != ReplaySummary() {
                        logger.info(
                            "replayed: \(summary.writes) writes; \(summary.applied) applied, \(summary.superseded) superseded, \(summary.failed) failed, \(summary.parked) parked, \(summary.deferred) deferred, \(summary.conflict) conflict"
                        )
                    }
                } catch let error as AuditLogError where error.code == .leaseLost {
                    control.setFence(nil, waitingOn: nil)
                    logger.error("replay stopped: \(error); ingest and replay pause until the lease is taken back")
                } catch {
                    ReprocessorMetrics.recordFailure(error)
                    logger.error("replay pass failed: \(error)")
                }
            }
            await observeFreshness()
            await logChainHead()
            await pause(options.replayInterval, orWhenWoken: .replay)
        }
    }

    /// Runs a dry-run reconcile every `interval` while the lease is held, and sets the drift gauges
    /// from it. A stop cancels a run in flight (kept as failed; the next scheduled run starts anew).
    func reconcileOnInterval(_ interval: Duration) async {
        while !control.isStopping {
            if let fence = control.fence {
                do {
                    let report = try await cancelWhenGracefulShutdown {
                        try await operations.reconcile(ReconcileRequest(actor: "system"))
                    }
                    ReprocessorMetrics.record(reconcile: report.run)
                    try await auditLog.checkFence(fence)
                    let level: Logger.Level = report.drift > 0 ? .warning : .info
                    logger.log(
                        level: level,
                        "reconcile run \(report.run.id): scanned \(report.run.scanned), indexed \(report.run.indexed), drift \(report.drift)"
                    )
                } catch let error as AuditLogError where error.code == .leaseLost {
                    control.setFence(nil, waitingOn: nil)
                    logger.error("reconcile stopped: \(error); it waits until the lease is taken back")
                } catch is CancellationError {
                    return
                } catch {
                    ReprocessorMetrics.recordFailure(error)
                    logger.error("scheduled reconcile failed: \(error)")
                }
            }
            await pause(interval)
        }
    }

    /// Probes search (`GET /`) with a growing pause (up to a minute) until it answers.
    func waitForSearch() async {
        var delay = options.replayInterval
        while !control.isStopping {
            await pause(delay)
            do {
                try await engine.checkSearch()
                logger.notice("search answers again; resuming replay")
                return
            } catch {
                delay = min(delay * 2, .seconds(60))
            }
        }
    }

    /// Starts observing freshness from the newest apply when this process holds the lease and
    /// is not observing yet (before a replay pass, so the pass's applies count); stops when it
    /// does not hold it.
    func prepareFreshness() async {
        guard control.fence != nil else {
            control.setFreshnessCursor(nil)
            return
        }
        guard control.freshnessCursor == nil else { return }
        do {
            control.setFreshnessCursor(try await auditLog.lastAppliedActionID())
        } catch {
            logger.warning("could not find the newest apply, for dlq_change_lag_seconds: \(error)")
        }
    }

    /// Records the sent → applied lag of the changes applied since the last look
    /// (`dlq_change_lag_seconds`), while this process holds the lease: the lease holder observes
    /// the whole store, so in a fleet the leader reports every worker's applies, once.
    func observeFreshness() async {
        guard control.fence != nil, var cursor = control.freshnessCursor else { return }
        do {
            while !control.isStopping {
                let page = try await auditLog.appliedLags(afterActionID: cursor, limit: 1000)
                ReprocessorMetrics.record(lags: page.lags)
                guard page.lastActionID != cursor else { break }
                cursor = page.lastActionID
                control.setFreshnessCursor(cursor)
            }
        } catch {
            logger.warning("could not read the changes applied lately, for dlq_change_lag_seconds: \(error)")
        }
    }

    /// Logs the audit chain's head (so log shipping keeps a copy off the box, for `verify
    /// --expect-head`) and sets its gauge.
    func logChainHead() async {
        do {
            let head = try await auditLog.head()
            ReprocessorMetrics.record(head)
            logger.notice("audit chain head \(head)", metadata: ["auditHead": "\(head)"])
        } catch {
            logger.warning("could not read the audit chain head: \(error)")
        }
    }

    /// Sleeps for `duration`, or until another stage wakes `stage` (new batches stored, new
    /// changes stored), looking every 50 ms; waking early on graceful shutdown or cancellation.
    func pause(_ duration: Duration, orWhenWoken stage: LoopControl.Stage) async {
        let deadline = ContinuousClock.now.advanced(by: duration)
        while !control.isStopping, !control.takeWakeUp(stage), ContinuousClock.now < deadline {
            await pause(min(.milliseconds(50), deadline - ContinuousClock.now))
        }
    }

    /// Sleeps for `duration`, waking early on graceful shutdown or cancellation.
    func pause(_ duration: Duration) async {
        guard !control.isStopping else { return }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

/// State the loop's tasks and `/readyz` share: stopping, the lease fence while held (and who
/// holds it otherwise), whether the last drain succeeded.
final class LoopControl: Sendable {
    private struct State {
        var stopping = false
        var fence: LeaseFence?
        var waitingOn: String?
        var ingestHealthy = false
        var freshnessCursor: Int64?
        var woken: Set<Stage> = []
        var drainYieldsTo: Int64?
    }

    /// A stage of the pipeline another can wake when it gives it work.
    enum Stage: Hashable {
        /// Reading stored batches from their streams.
        case batchReads
        /// Replaying due changes.
        case replay
        /// Draining the DLQ (woken when it no longer yields to batch reads).
        case drain
    }
    private let state = Mutex(State())

    /// Whether graceful shutdown began or the task was cancelled.
    var isStopping: Bool { state.withLock(\.stopping) || Task.isCancelled }
    /// The run lease's fence while this process holds it.
    var fence: LeaseFence? { state.withLock(\.fence) }
    /// Who holds the lease while this process does not (nil: unknown).
    var waitingOn: String? { state.withLock(\.waitingOn) }
    /// Whether the last drain succeeded (until one has, a replay pass is not a successful run).
    var ingestHealthy: Bool { state.withLock(\.ingestHealthy) }

    func stop() { state.withLock { $0.stopping = true } }
    func setFence(_ fence: LeaseFence?, waitingOn holder: String?) {
        state.withLock {
            $0.fence = fence
            $0.waitingOn = holder
        }
    }
    func setIngestHealthy(_ value: Bool) { state.withLock { $0.ingestHealthy = value } }
    /// Tells `stage` it has work (it stops waiting at its next look).
    func wake(_ stage: Stage) { state.withLock { _ = $0.woken.insert(stage) } }
    /// Whether `stage` was woken since it last looked; looking clears it.
    func takeWakeUp(_ stage: Stage) -> Bool { state.withLock { $0.woken.remove(stage) != nil } }
    /// The last `applied` action whose lag was recorded (nil: not observing).
    var freshnessCursor: Int64? { state.withLock(\.freshnessCursor) }
    func setFreshnessCursor(_ cursor: Int64?) { state.withLock { $0.freshnessCursor = cursor } }
    /// The due batch the drain waits for (past the priority share of its stream's retention), if any.
    var drainYieldsTo: Int64? { state.withLock(\.drainYieldsTo) }
    func setDrainYieldsTo(_ batchID: Int64?) { state.withLock { $0.drainYieldsTo = batchID } }
}
