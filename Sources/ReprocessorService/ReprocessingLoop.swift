import AuditLog
import Foundation
import Logging
import Reprocessor
import ServiceLifecycle
import Synchronization

/// The work of `serve`: drain the DLQ continuously (long polls), replay due changes on an
/// interval, and hold the run lease all the while, so that `run --once` stands aside.
///
/// On graceful shutdown it stops receiving, lets received groups commit and delete (or stay
/// on the queue), ends the replay pass after the batch in flight, and releases the lease.
struct ReprocessingLoop: Service {
    let auditLog: AuditLog
    let ingestor: DLQIngestor
    let replayer: ChangeReplayer
    let options: ServeOptions
    let holder: String
    let logger: Logger

    /// Pause after a failed drain before the next.
    let ingestRetryDelay: Duration = .seconds(5)

    func run() async {
        let control = LoopControl()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await keepLease(control) }
                group.addTask { await ingestContinuously(control) }
                group.addTask { await replayOnInterval(control) }
            }
            do {
                try await auditLog.releaseLease(name: CronRun.leaseName, holder: holder)
                logger.notice("stopped; released the run lease")
            } catch {
                logger.error("stopped, but could not release the run lease (it expires by itself): \(error)")
            }
        } onGracefulShutdown: {
            control.stop()
            logger.notice("stopping: no more receives; finishing the work in flight")
        }
    }

    /// Takes the lease (waiting while another run holds it) and renews it at a third of its lifetime.
    func keepLease(_ control: LoopControl) async {
        var reportedHolder: String?
        while !control.isStopping {
            do {
                if control.holdsLease {
                    if try await !auditLog.renewLease(name: CronRun.leaseName, holder: holder, now: Date()) {
                        control.setHoldsLease(false)
                        logger.error("lost the run lease to another process; work pauses until it is taken back")
                    }
                }
                if !control.holdsLease {
                    if try await auditLog.acquireLease(
                        name: CronRun.leaseName, holder: holder, ttl: options.leaseTTL, now: Date())
                    {
                        control.setHoldsLease(true)
                        reportedHolder = nil
                        logger.notice("holding the run lease as \(holder)")
                    } else {
                        let current = try await auditLog.leaseHolder(name: CronRun.leaseName, now: Date()) ?? "another process"
                        if reportedHolder != current {
                            logger.notice("waiting for the run lease, held by \(current)")
                            reportedHolder = current
                        }
                    }
                }
            } catch {
                logger.warning("could not take or renew the run lease: \(error)")
            }
            await pause(control.holdsLease ? options.leaseTTL / 3 : min(options.leaseTTL / 3, .seconds(2)), control)
        }
    }

    /// Drains the DLQ again and again; each drain long-polls and returns when a receive comes back empty.
    func ingestContinuously(_ control: LoopControl) async {
        while !control.isStopping {
            guard control.holdsLease else {
                await pause(.seconds(1), control)
                continue
            }
            do {
                let summary = try await ingestor.drain(shouldStop: { control.isStopping || !control.holdsLease })
                control.setIngestHealthy(true)
                if summary.messagesReceived > 0 {
                    logger.info(
                        "ingested \(summary.messagesReceived) messages: \(summary.changesStored) new changes, \(summary.quarantined) quarantined, \(summary.expired) expired batches"
                    )
                } else if options.ingest.waitTimeSeconds == 0 {
                    await pause(.seconds(1), control)
                }
            } catch {
                control.setIngestHealthy(false)
                ReprocessorMetrics.recordFailure(error)
                logger.error("ingest failed; trying again in \(ingestRetryDelay.components.seconds) s: \(error)")
                await pause(ingestRetryDelay, control)
            }
        }
    }

    /// Replays due changes every interval; a pass after a successful drain (and no failed one since)
    /// counts as a successful run.
    func replayOnInterval(_ control: LoopControl) async {
        while !control.isStopping {
            if control.holdsLease {
                do {
                    let summary = try await replayer.replayDue(shouldStop: { control.isStopping })
                    if control.ingestHealthy {
                        try await auditLog.recordRun(finishedAt: Date())
                    }
                    if summary != ReplaySummary() {
                        logger.info(
                            "replayed: \(summary.applied) applied, \(summary.superseded) superseded, \(summary.failed) failed, \(summary.parked) parked, \(summary.deferred) deferred"
                        )
                    }
                } catch {
                    ReprocessorMetrics.recordFailure(error)
                    logger.error("replay pass failed: \(error)")
                }
            }
            await logChainHead()
            await pause(options.replayInterval, control)
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

    /// Sleeps for `duration`, waking early on graceful shutdown or cancellation.
    func pause(_ duration: Duration, _ control: LoopControl) async {
        guard !control.isStopping else { return }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

/// State the loop's tasks share: stopping, lease held, whether the last drain succeeded.
final class LoopControl: Sendable {
    private struct State {
        var stopping = false
        var holdsLease = false
        var ingestHealthy = false
    }
    private let state = Mutex(State())

    /// Whether graceful shutdown began or the task was cancelled.
    var isStopping: Bool { state.withLock(\.stopping) || Task.isCancelled }
    /// Whether this process holds the run lease.
    var holdsLease: Bool { state.withLock(\.holdsLease) }
    /// Whether the last drain succeeded (until one has, a replay pass is not a successful run).
    var ingestHealthy: Bool { state.withLock(\.ingestHealthy) }

    func stop() { state.withLock { $0.stopping = true } }
    func setHoldsLease(_ value: Bool) { state.withLock { $0.holdsLease = value } }
    func setIngestHealthy(_ value: Bool) { state.withLock { $0.ingestHealthy = value } }
}
