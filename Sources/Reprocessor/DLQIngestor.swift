import AWSClients
import AuditLog
import Foundation
import Logging
import StreamModel
import SyncTransform

/// Limits of one drain of the DLQ.
public struct IngestOptions: Sendable, Hashable {
    /// Stop after this many messages; `nil` drains until a receive comes back empty.
    public var maxMessages: Int?
    /// Long-poll wait of each receive, 0–20 seconds.
    public var waitTimeSeconds: Int
    /// Receives in flight at once.
    public var concurrency: Int

    /// Creates options.
    /// - Parameters:
    ///   - maxMessages: Stop after this many messages (`nil`: until empty).
    ///   - waitTimeSeconds: Long-poll wait of each receive.
    ///   - concurrency: Receives in flight at once.
    public init(maxMessages: Int? = nil, waitTimeSeconds: Int = 2, concurrency: Int = 4) {
        self.maxMessages = maxMessages
        self.waitTimeSeconds = min(max(waitTimeSeconds, 0), 20)
        self.concurrency = max(concurrency, 1)
    }
}

/// What a drain did.
public struct IngestSummary: Sendable, Hashable, Codable {
    /// Messages received from SQS (re-deliveries included).
    public var messagesReceived = 0
    /// Messages stored for the first time.
    public var messagesStored = 0
    /// Messages already in the audit log (re-deliveries).
    public var duplicateMessages = 0
    /// Changes stored for the first time.
    public var changesStored = 0
    /// Changes already in the audit log (the same record in another message).
    public var duplicateChanges = 0
    /// Messages stored as quarantined (format C).
    public var quarantined = 0
    /// Batches (format A) stored for the first time; their records are read from the stream after the drain.
    public var batchesStored = 0
    /// Messages naming a batch another message had named.
    public var duplicateBatches = 0
    /// Batches whose every record is now stored.
    public var batchesRead = 0
    /// Batches put off after a transient stream error, or caught up with their shard before their end.
    public var batchesDelayed = 0
    /// Batches whose records had left the stream (expired).
    public var expired = 0
    /// Changes stored as filtered (not artist records).
    public var filtered = 0
    /// Messages committed but not deleted from the queue (they will come back and be recognised).
    public var deleteFailures = 0

    /// An empty summary.
    public init() {}

    /// Adds another summary's counts to these.
    /// - Parameter other: The counts to add.
    public mutating func add(_ other: IngestSummary) {
        messagesReceived += other.messagesReceived
        messagesStored += other.messagesStored
        duplicateMessages += other.duplicateMessages
        changesStored += other.changesStored
        duplicateChanges += other.duplicateChanges
        quarantined += other.quarantined
        batchesStored += other.batchesStored
        duplicateBatches += other.duplicateBatches
        batchesRead += other.batchesRead
        batchesDelayed += other.batchesDelayed
        expired += other.expired
        filtered += other.filtered
        deleteFailures += other.deleteFailures
    }
}

/// Drains the DLQ into the audit log, then reads the failed batches' records from their streams.
///
/// Each received group of messages is classified (DESIGN §2), committed to the audit log in
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
                forwarded.records.map { change(from: $0, streamARN: $0.eventSourceARN, shardID: nil, at: receivedAt) })
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

    /// One stream record as a change row: pending when it is an artist record, filtered otherwise.
    func change(from record: StreamRecord, streamARN: String?, shardID: String?, at date: Date) -> NewChange {
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

/// How many more messages a drain may receive, shared by its receivers.
actor MessageBudget {
    private var left: Int?
    private var drained = false
    /// When receives started coming back empty while the queue counted visible messages.
    private var emptySince: ContinuousClock.Instant?

    init(limit: Int?) { left = limit }

    /// Claims up to `wanted` messages; 0 when the budget is spent or the queue was found empty.
    func claim(upTo wanted: Int) -> Int {
        if drained { return 0 }
        guard let current = left else { return wanted }
        let granted = min(current, wanted)
        left = current - granted
        return granted
    }

    /// Returns what a receive did not use.
    func giveBack(_ count: Int) {
        if let current = left { left = current + count }
    }

    /// Records that a receive came back empty: the other receivers stop too.
    func markDrained() { drained = true }

    /// Notes an empty receive made while the queue may still hold visible messages.
    /// - Returns: How long receives have come back empty since messages last came.
    func noteEmptyReceive(at now: ContinuousClock.Instant) -> Duration {
        let since = emptySince ?? now
        emptySince = since
        return now - since
    }

    /// Notes a receive that brought messages: empty receives count from scratch again.
    func noteMessagesReceived() { emptySince = nil }
}

/// Totals across concurrent receivers.
actor RunningTotals {
    private(set) var value = IngestSummary()

    func add(_ summary: IngestSummary) -> IngestSummary {
        value.add(summary)
        return value
    }
}
