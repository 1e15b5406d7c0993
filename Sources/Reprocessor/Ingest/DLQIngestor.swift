import AWSClients
import AuditLog
import Foundation
import Logging
import StreamModel
import SyncTransform

/// Drains the DLQ into the audit log, then reads the failed batches' records from their streams.
///
/// Each received group of messages is classified (docs/design.md, "What arrives on the DLQ"), committed to the audit log in
/// one transaction, and only then deleted from the queue. A crash at any point leaves every
/// message either on the queue or in the audit log; a message that comes back is recognised
/// by its id and not stored twice. A format-A message is stored as a batch; its records are
/// read by ``readPendingBatches(fence:shouldStop:)``, page by page, on this pass and later ones.
public struct DLQIngestor: Sendable {
    let queueURL: String
    let sqs: SQSClient
    let streams: StreamRangeReader
    let auditLog: AuditLog
    let transform: SyncTransform
    let options: IngestOptions
    let visibilityTimeoutSeconds: Int
    /// Backoff of a batch whose stream failed (transient errors), or that caught up with its shard early.
    let batchBackoff: RetryPolicy
    let logger: Logger

    /// How long a stream keeps a record: a batch whose last record is older cannot be read any more.
    static let streamRetention: TimeInterval = 24 * 60 * 60

    /// Seconds a batch whose last record reached the stream at `lastRecordAt` has left before
    /// the stream's retention trims it (negative once past).
    public static func retentionLeft(lastRecordAt: Date, now: Date) -> TimeInterval {
        streamRetention - now.timeIntervalSince(lastRecordAt)
    }
    /// How long a drain keeps receiving while receives come back empty but the queue still counts
    /// visible messages (short polls sample a subset of SQS's servers; a busy emulator answers
    /// empty): from the first empty receive since messages last came.
    static let patienceWhileVisible: Duration = .seconds(10)

    /// Drains until the queue is empty, `maxMessages` were received, or `shouldStop` says so.
    /// - Parameters:
    ///   - fence: When given, each group is committed only while this fence holds the run lease.
    ///   - progress: Called with the running totals after each group.
    ///   - shouldStop: Consulted before each receive; once it returns true no more messages are
    ///     received, and groups already received are still committed and deleted (a graceful stop).
    /// - Returns: What was done.
    /// - Throws: AWS or audit-log errors that stop the drain (`AuditLogError` `.leaseLost` when
    ///   `fence` lost the lease); messages not yet committed stay on the queue.
    public func drain(
        fence: LeaseFence? = nil, progress: (@Sendable (IngestSummary) -> Void)? = nil,
        shouldStop: (@Sendable () -> Bool)? = nil
    ) async throws -> IngestSummary {
        let budget = MessageBudget(limit: options.maxMessages)
        let totals = RunningTotals()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<options.concurrency {
                group.addTask {
                    while !Task.isCancelled {
                        if shouldStop?() == true { return }
                        let claimed = await budget.claim(upTo: 10)
                        if claimed == 0 { return }
                        let messages = try await sqs.receiveMessages(
                            queueURL: queueURL, maxMessages: claimed, waitTimeSeconds: options.waitTimeSeconds,
                            visibilityTimeout: visibilityTimeoutSeconds)
                        await budget.giveBack(claimed - messages.count)
                        if messages.isEmpty {
                            // An empty receive can come while messages are still visible: ask the
                            // queue before calling it drained, and keep receiving for a while.
                            let visible = (try? await sqs.approximateMessageCounts(queueURL: queueURL).visible) ?? 0
                            let waited = await budget.noteEmptyReceive(at: .now)
                            if visible == 0 || waited > Self.patienceWhileVisible {
                                await budget.markDrained()
                                return
                            }
                            try? await Task.sleep(for: .milliseconds(200))
                            continue
                        }
                        await budget.noteMessagesReceived()
                        let summary = try await handle(messages, fence: fence)
                        ReprocessorMetrics.record(summary)
                        let running = await totals.add(summary)
                        progress?(running)
                    }
                }
            }
            try await group.waitForAll()
        }
        return await totals.value
    }

    /// The queue's approximate depth: messages waiting, and messages received but not yet deleted.
    /// - Returns: SQS's approximate counts (they lag by up to a minute).
    /// - Throws: `AWSError` when the queue cannot be reached or refuses.
    public func approximateDepth() async throws -> (visible: Int, inFlight: Int) {
        try await sqs.approximateMessageCounts(queueURL: queueURL)
    }

    /// Checks that the queue answers (GetQueueAttributes), for readiness.
    /// - Throws: `AWSError` when it cannot be reached or refuses.
    public func checkQueue() async throws {
        _ = try await sqs.approximateMessageCounts(queueURL: queueURL)
    }

    /// Classifies, commits and deletes one received group.
    func handle(_ messages: [SQSMessage], fence: LeaseFence? = nil) async throws -> IngestSummary {
        let heartbeat = extendVisibility(of: messages)
        defer { heartbeat.cancel() }

        let receivedAt = Date()
        let prepared = messages.map { prepare($0, receivedAt: receivedAt) }
        await TestPause.at(.beforeCommit, logger: logger)
        let outcomes = try await auditLog.ingest(prepared, at: Date(), fence: fence)
        await TestPause.at(.afterCommitBeforeDelete, logger: logger)

        var summary = IngestSummary()
        summary.messagesReceived = messages.count
        for (message, outcome) in zip(prepared, outcomes) {
            var metadata: Logger.Metadata = ["messageId": "\(message.messageID)", "format": "\(message.format.rawValue)"]
            if let correlationID = message.correlationID { metadata["correlationId"] = "\(correlationID)" }
            if outcome.duplicateMessage {
                summary.duplicateMessages += 1
                logger.info("message already in the audit log; deleting the re-delivery", metadata: metadata)
                continue
            }
            summary.messagesStored += 1
            summary.changesStored += outcome.storedChangeIDs.count
            summary.duplicateChanges += outcome.duplicateChanges
            switch message.disposition {
            case .quarantined(let reason):
                summary.quarantined += 1
                logger.warning("message quarantined: \(reason)", metadata: metadata)
            case .changes(let changes):
                summary.filtered += changes.filter { $0.status == .filtered }.count
                metadata["changes"] = "\(outcome.storedChangeIDs.count)"
                metadata["duplicateChanges"] = "\(outcome.duplicateChanges)"
                logger.info("message ingested", metadata: metadata)
            case .batch:
                metadata["batchId"] = "\(outcome.batchID.map(String.init) ?? "none")"
                if outcome.duplicateBatch {
                    summary.duplicateBatches += 1
                    logger.info("message names a batch already stored", metadata: metadata)
                } else {
                    summary.batchesStored += 1
                    logger.info("batch stored; its records are read from the stream next", metadata: metadata)
                }
            }
        }
        summary.deleteFailures = await delete(messages)
        return summary
    }

    /// Turns one SQS message into what the audit log stores.
    func prepare(_ message: SQSMessage, receivedAt: Date) -> NewMessage {
        Self.prepare(message, receivedAt: receivedAt, transform: transform)
    }

    /// Turns one SQS message into what the audit log stores, with `transform` deciding which
    /// records are artists: the one reading of a body, for a message as it arrives and for a
    /// quarantined one read again (``QuarantineActions``).
    public static func prepare(_ message: SQSMessage, receivedAt: Date, transform: SyncTransform) -> NewMessage {
        let attributeCorrelation = message.messageAttributes["correlationId"]
        var correlationID = attributeCorrelation
        var errorText: String?
        let disposition: MessageDisposition
        let envelope = DLQEnvelope(body: message.body)
        switch envelope {
        case .unrecognized(let reason):
            disposition = .quarantined(reason: reason)
        case .forwardedRecords(let forwarded):
            correlationID = forwarded.correlationID ?? attributeCorrelation
            let parts = [forwarded.errorType, forwarded.errorMessage].compactMap { $0 }
            errorText = parts.isEmpty ? nil : parts.joined(separator: ": ")
            disposition = .changes(
                forwarded.records.map {
                    change(from: $0, streamARN: $0.eventSourceARN, shardID: nil, at: receivedAt, transform: transform)
                })
        case .failedBatch(let batch):
            correlationID = attributeCorrelation ?? batch.requestID
            errorText = Self.describeFailure(of: batch)
            let claimed = [batch.approximateArrivalOfLastRecord, batch.timestamp].lazy.compactMap { $0 }
                .compactMap(Self.parseTime).first
            disposition = .batch(
                NewBatch(
                    streamARN: batch.streamARN, shardID: batch.shardID, startSequenceNumber: batch.startSequenceNumber,
                    endSequenceNumber: batch.endSequenceNumber, batchInfo: batch.batchInfoJSON,
                    lastRecordAt: claimed ?? message.sentAt ?? receivedAt))
        }
        return NewMessage(
            messageID: message.messageID, body: message.body, format: envelope.format, correlationID: correlationID,
            errorText: errorText, receivedAt: receivedAt, receiveCount: message.receiveCount, sentAt: message.sentAt,
            disposition: disposition)
    }

    /// An ISO-8601 time as the envelope carries it, with or without fractional seconds.
    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    // MARK: Batches

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
    ///   - reader: On a shared store, the worker task reading: each batch is claimed first and
    ///     one another worker holds is left to it (see ``BatchReader``).
    ///   - shouldStop: Consulted before each batch; once it returns true no more batches are started.
    /// - Returns: What was done (`batchesRead`, `batchesDelayed`, `expired`, `changesStored`…).
    /// - Throws: Audit-log errors (`AuditLogError` `.leaseLost` when `fence` lost the lease).
    public func readPendingBatches(
        fence: LeaseFence? = nil, reader: BatchReader? = nil, shouldStop: (@Sendable () -> Bool)? = nil
    ) async throws
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
                            group.addTask { try await read(batch, fence: fence, claimingAs: reader) }
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

    /// One stream record as a change row: pending when it is an artist record, filtered otherwise.
    func change(from record: StreamRecord, streamARN: String?, shardID: String?, at date: Date) -> NewChange {
        Self.change(from: record, streamARN: streamARN, shardID: shardID, at: date, transform: transform)
    }

    /// One stream record as a change row, with `transform` deciding whether it is an artist record.
    static func change(
        from record: StreamRecord, streamARN: String?, shardID: String?, at date: Date, transform: SyncTransform
    ) -> NewChange {
        let documentID = SyncTransform.documentID(forKeys: record.dynamodb.keys)
        var status = ChangeStatus.pending
        var reason: String?
        if case .filtered(let why) = transform.decide(record, appliedAt: date) {
            status = .filtered
            reason = why
        }
        return NewChange(
            streamARN: streamARN, shardID: shardID, sequenceNumber: record.dynamodb.sequenceNumber,
            eventID: record.eventID, eventName: record.eventName, keys: record.dynamodb.keys, documentID: documentID,
            oldImage: record.dynamodb.oldImage, newImage: record.dynamodb.newImage,
            approximateCreationTime: record.dynamodb.approximateCreationDateTime, status: status, reason: reason,
            batchInfo: nil)
    }

    /// The error text kept for a format-A message, e.g. "RetryAttemptsExhausted after 3 invocations (Unhandled)".
    static func describeFailure(of batch: FailedBatch) -> String {
        var text = batch.condition ?? "failed batch"
        if let count = batch.approximateInvokeCount { text += " after \(count) invocations" }
        if let functionError = batch.functionError { text += " (\(functionError))" }
        return text
    }

    /// Keeps `messages` invisible while they are worked on, renewing at a third of the timeout.
    func extendVisibility(of messages: [SQSMessage]) -> Task<Void, Never> {
        let timeout = visibilityTimeoutSeconds
        return Task {
            while true {
                do {
                    try await Task.sleep(for: .seconds(max(timeout / 3, 1)))
                } catch {
                    return
                }
                for message in messages {
                    do {
                        try await sqs.changeMessageVisibility(
                            queueURL: queueURL, receiptHandle: message.receiptHandle, timeoutSeconds: timeout)
                    } catch {
                        // Cancelled: the group finished while this renewal was in flight.
                        if Task.isCancelled { return }
                        ReprocessorMetrics.recordFailure(error)
                        logger.warning(
                            "could not extend visibility: \(error)", metadata: ["messageId": "\(message.messageID)"])
                    }
                }
            }
        }
    }

    /// Deletes committed messages, retrying entries that failed; returns how many could not be deleted.
    func delete(_ messages: [SQSMessage]) async -> Int {
        var remaining = Array(messages.enumerated().map { (id: String($0.offset), message: $0.element) })
        for attempt in 0..<3 where !remaining.isEmpty {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
            do {
                let result = try await sqs.deleteMessageBatch(
                    queueURL: queueURL, entries: remaining.map { (id: $0.id, receiptHandle: $0.message.receiptHandle) })
                let failed = Set(result.failed.map(\.id))
                for failure in result.failed {
                    logger.warning("delete failed: \(failure.code) \(failure.message ?? "")")
                }
                remaining = remaining.filter { failed.contains($0.id) }
            } catch {
                ReprocessorMetrics.recordFailure(error)
                logger.warning("DeleteMessageBatch failed: \(error)")
            }
        }
        for entry in remaining {
            logger.warning(
                "message committed but not deleted; its re-delivery will be recognised",
                metadata: ["messageId": "\(entry.message.messageID)"])
        }
        return remaining.count
    }
}
