import AWSClients
import AuditLog
import Foundation
import Logging
import StreamModel
import SyncTransform

/// Format-A batches: their records read from the stream on later passes (DESIGN §4, "Batches").
extension DLQIngestor {
    /// Reads the records of every due batch from its stream, storing them page by page with
    /// the batch's progress, `concurrency` batches at a time. Each batch is read once per call
    /// and at most a page budget's worth (see ``StreamRangeReader``); what is left is read by
    /// the next call.
    ///
    /// A batch ends `read` when its whole range is stored, `expired` only when the stream
    /// definitely no longer has its records (trimmed, shard or stream gone, or its last record
    /// older than the stream's 24-hour retention). Any other failure (throttling, 5xx, access
    /// denied, expired credentials, connection errors) only puts it off, with backoff.
    /// - Parameters:
    ///   - fence: When given, every page is committed only while this fence holds the run lease.
    ///   - shouldStop: Consulted before each batch; once it returns true no more batches are started.
    /// - Returns: What was done (`batchesRead`, `batchesDelayed`, `expired`, `changesStored`…).
    /// - Throws: Audit-log errors (`AuditLogError` `.leaseLost` when `fence` lost the lease).
    public func readPendingBatches(fence: LeaseFence? = nil, shouldStop: (@Sendable () -> Bool)? = nil) async throws
        -> IngestSummary
    {
        var summary = IngestSummary()
        var seen = Set<Int64>()
        while shouldStop?() != true {
            let due = try await auditLog.dueBatches(now: Date(), limit: 100).filter { !seen.contains($0.id) }
            if due.isEmpty { break }
            seen.formUnion(due.map(\.id))
            summary.add(
                try await withThrowingTaskGroup(of: IngestSummary.self) { group in
                    var total = IngestSummary()
                    var waiting = due[...]
                    var running = 0
                    while true {
                        while running < options.concurrency, shouldStop?() != true, let batch = waiting.popFirst() {
                            group.addTask { try await read(batch, fence: fence) }
                            running += 1
                        }
                        guard let done = try await group.next() else { return total }
                        running -= 1
                        total.add(done)
                    }
                })
        }
        return summary
    }

    /// Reads one batch as far as one pass goes, and records how it ended. A batch another
    /// process finished or expired meanwhile (an `ingest` beside a run) is left to it.
    func read(_ batch: BatchRecord, fence: LeaseFence?) async throws -> IngestSummary {
        do {
            return try await readOnce(batch, fence: fence)
        } catch let error as AuditLogError where error.code == .illegalTransition {
            logger.info("batch moved on by another process: \(error)", metadata: ["batchId": "\(batch.id)"])
            return IngestSummary()
        }
    }

    private func readOnce(_ batch: BatchRecord, fence: LeaseFence?) async throws -> IngestSummary {
        var summary = IngestSummary()
        let metadata: Logger.Metadata = [
            "batchId": "\(batch.id)", "messageId": "\(batch.messageID)", "shard": "\(batch.shardID)",
        ]
        let range = StreamRangeReader.Range(
            streamARN: batch.streamARN, shardID: batch.shardID, start: batch.startSequenceNumber,
            end: batch.endSequenceNumber, lastRead: batch.lastReadSequenceNumber,
            pageLimit: StreamRangeReader.pageLimit(batchSize: batch.batchInfo["batchSize"]?.intValue))
        let ending: StreamRangeReader.Ending
        do {
            ending = try await streams.read(range) { page in
                let now = Date()
                let changes = page.records.map {
                    change(from: $0, streamARN: batch.streamARN, shardID: batch.shardID, at: now)
                }
                await TestPause.at(.beforeBatchPageCommit, logger: logger)
                let outcome = try await auditLog.storeBatchPage(
                    batch.id, BatchPage(changes: changes, lastReadSequenceNumber: page.lastRead, complete: page.complete),
                    at: now, fence: fence)
                summary.changesStored += outcome.storedChangeIDs.count
                summary.duplicateChanges += outcome.duplicateChanges
                summary.filtered += changes.filter { $0.status == .filtered }.count
            }
        } catch let error as AuditLogError {
            throw error
        } catch {
            ReprocessorMetrics.recordFailure(error)
            try await putOff(batch, because: "could not read the records: \(error)", summary: &summary, fence: fence)
            return summary
        }
        if case .streamUnavailable = ending {
        } else {
            // The stream answered for this ARN: whatever was wrong with it is not wrong now.
            try await auditLog.clearStreamProblem(streamARN: batch.streamARN)
        }
        switch ending {
        case .streamUnavailable(let reason):
            let firstSeen = try await auditLog.recordStreamProblem(streamARN: batch.streamARN, reason: reason, at: Date())
            try await delay(batch, because: reason, summary: &summary, fence: fence)
            if firstSeen {
                logger.error(
                    "configuration error: \(reason); its batches wait (a stream that cannot be described never expires a batch)",
                    metadata: metadata)
            }
        case .complete:
            summary.batchesRead += 1
            logger.info("batch read", metadata: metadata)
        case .expired(let reason):
            try await expire(batch, reason: reason, summary: &summary, fence: fence)
        case .caughtUp:
            try await putOff(
                batch,
                because: "caught up with the shard before the range's end \(batch.endSequenceNumber.digits); reading on later",
                summary: &summary, fence: fence)
        case .budgetSpent:
            logger.debug("batch partly read; the next pass goes on", metadata: metadata)
        }
        return summary
    }

    /// Puts a batch off with backoff, or expires it when its last record is past the stream's retention.
    private func putOff(_ batch: BatchRecord, because reason: String, summary: inout IngestSummary, fence: LeaseFence?)
        async throws
    {
        let now = Date()
        if now.timeIntervalSince(batch.lastRecordAt) > Self.streamRetention {
            try await expire(
                batch, reason: "\(reason); the range's last record is older than the stream's 24-hour retention",
                summary: &summary, fence: fence)
            return
        }
        try await delay(batch, because: reason, summary: &summary, fence: fence)
    }

    /// Puts a batch off with backoff, whatever its age.
    private func delay(_ batch: BatchRecord, because reason: String, summary: inout IngestSummary, fence: LeaseFence?)
        async throws
    {
        let now = Date()
        let backoff = batchBackoff.delay(afterAttempt: batch.attempts)
        let until = now.addingTimeInterval(backoff / .seconds(1))
        try await auditLog.delayBatch(batch.id, error: reason, until: until, at: now, fence: fence)
        summary.batchesDelayed += 1
        logger.warning(
            "batch put off until \(until): \(reason)",
            metadata: ["batchId": "\(batch.id)", "attempts": "\(batch.attempts + 1)", "shard": "\(batch.shardID)"])
    }

    private func expire(_ batch: BatchRecord, reason: String, summary: inout IngestSummary, fence: LeaseFence?) async throws {
        try await auditLog.expireBatch(batch.id, reason: reason, at: Date(), fence: fence)
        summary.expired += 1
        logger.warning("batch expired: \(reason)", metadata: ["batchId": "\(batch.id)", "shard": "\(batch.shardID)"])
    }
}
