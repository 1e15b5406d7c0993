import AuditLog
import Foundation
import Logging

/// One scheduled run: drain the DLQ, then replay everything due, under a lease
/// in the audit database so that two runs never overlap.
public struct CronRun: Sendable {
    /// What a run did.
    public enum Result: Sendable {
        /// The run happened.
        case ran(ingest: IngestSummary, replay: ReplaySummary, stats: AuditStats)
        /// Another process holds the lease; nothing was done.
        case leaseHeld(by: String)
    }

    /// The lease name shared by `run --once` and `serve`.
    public static let leaseName = "run"

    let reprocessor: Reprocessor
    let holder: String
    let leaseTTL: Duration

    /// Creates a run.
    /// - Parameters:
    ///   - reprocessor: The wired reprocessor.
    ///   - holder: Who holds the lease (host and process id by default).
    ///   - leaseTTL: How long a lease lasts without renewal; a crashed run's lease is taken over after it.
    public init(reprocessor: Reprocessor, holder: String = CronRun.defaultHolder(), leaseTTL: Duration = .seconds(300)) {
        self.reprocessor = reprocessor
        self.holder = holder
        self.leaseTTL = leaseTTL
    }

    /// `host:pid`.
    public static func defaultHolder() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Runs once.
    /// - Parameters:
    ///   - options: Limits of the drain.
    ///   - ingestProgress: Running ingest totals.
    ///   - replayProgress: Running replay totals.
    /// - Returns: What happened, or that another run holds the lease.
    /// - Throws: Settings, AWS and audit-log errors that stop the run; the lease is released first.
    public func run(
        options: IngestOptions,
        ingestProgress: (@Sendable (IngestSummary) -> Void)? = nil,
        replayProgress: (@Sendable (ReplaySummary) -> Void)? = nil
    ) async throws -> Result {
        let auditLog = reprocessor.auditLog
        guard try await auditLog.acquireLease(name: Self.leaseName, holder: holder, ttl: leaseTTL, now: Date()) else {
            let current = try await auditLog.leaseHolder(name: Self.leaseName, now: Date()) ?? "another process"
            return .leaseHeld(by: current)
        }
        let renewal = Task { [holder, leaseTTL, logger = reprocessor.logger] in
            let period = leaseTTL / 3
            while (try? await Task.sleep(for: period)) != nil {
                do {
                    if try await !auditLog.renewLease(name: Self.leaseName, holder: holder, now: Date()) {
                        logger.error("lost the run lease to another process")
                    }
                } catch {
                    logger.warning("could not renew the run lease: \(error)")
                }
            }
        }
        do {
            let ingestor = try await reprocessor.makeIngestor(options: options)
            let engine = try await reprocessor.makeWriteEngine()
            let ingest = try await ingestor.drain(progress: ingestProgress)
            let replay = try await engine.replayDue(progress: replayProgress)
            try await auditLog.recordRun(finishedAt: Date())
            renewal.cancel()
            try await auditLog.releaseLease(name: Self.leaseName, holder: holder)
            return .ran(ingest: ingest, replay: replay, stats: try await auditLog.stats())
        } catch {
            renewal.cancel()
            try? await auditLog.releaseLease(name: Self.leaseName, holder: holder)
            throw error
        }
    }
}
