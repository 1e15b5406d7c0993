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
    /// Batches whose records had left the stream.
    public var expired = 0
    /// Changes stored as filtered (not artist records).
    public var filtered = 0
    /// Messages committed but not deleted from the queue (they will come back and be recognised).
    public var deleteFailures = 0
    /// Messages left on the queue because their records could not be read yet (they will come back).
    public var leftOnQueue = 0

    /// An empty summary.
    public init() {}

    mutating func add(_ other: IngestSummary) {
        messagesReceived += other.messagesReceived
        messagesStored += other.messagesStored
        duplicateMessages += other.duplicateMessages
        changesStored += other.changesStored
        duplicateChanges += other.duplicateChanges
        quarantined += other.quarantined
        expired += other.expired
        filtered += other.filtered
        deleteFailures += other.deleteFailures
        leftOnQueue += other.leftOnQueue
    }
}

/// Drains the DLQ into the audit log.
///
/// Each received group of messages is classified (DESIGN §2), completed from
/// the stream where it only names a batch, committed to the audit log in one
/// transaction, and only then deleted from the queue. A crash at any point
/// leaves every message either on the queue or in the audit log; a message that
/// comes back is recognised by its id and not stored twice.
public struct DLQIngestor: Sendable {
    let queueURL: String
    let sqs: SQSClient
    let streams: StreamRangeReader
    let auditLog: AuditLog
    let transform: SyncTransform
    let options: IngestOptions
    let visibilityTimeoutSeconds: Int
    let logger: Logger

    /// Drains until the queue is empty, `maxMessages` were received, or `shouldStop` says so.
    /// - Parameters:
    ///   - progress: Called with the running totals after each group.
    ///   - shouldStop: Consulted before each receive; once it returns true no more messages are
    ///     received, and groups already received are still committed and deleted (a graceful stop).
    /// - Returns: What was done.
    /// - Throws: AWS or audit-log errors that stop the drain; messages not yet committed stay on the queue.
    public func drain(
        progress: (@Sendable (IngestSummary) -> Void)? = nil, shouldStop: (@Sendable () -> Bool)? = nil
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
                            await budget.markDrained()
                            return
                        }
                        let summary = try await handle(messages)
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

    /// Checks that the queue answers (GetQueueAttributes), for readiness.
    /// - Throws: `AWSError` when it cannot be reached or refuses.
    public func checkQueue() async throws {
        _ = try await sqs.approximateMessageCounts(queueURL: queueURL)
    }

    /// Classifies, completes, commits and deletes one received group.
    func handle(_ messages: [SQSMessage]) async throws -> IngestSummary {
        let heartbeat = extendVisibility(of: messages)
        defer { heartbeat.cancel() }

        let receivedAt = Date()
        let byPosition = await withTaskGroup(of: (Int, NewMessage?).self) { group in
            for (position, message) in messages.enumerated() {
                group.addTask { (position, await prepare(message, receivedAt: receivedAt)) }
            }
            var byPosition = [NewMessage?](repeating: nil, count: messages.count)
            for await (position, message) in group { byPosition[position] = message }
            return byPosition
        }
        let ready = zip(messages, byPosition).compactMap { message, prepared in prepared.map { (message, $0) } }
        let prepared = ready.map(\.1)
        let outcomes = try await auditLog.ingest(prepared, at: Date())

        var summary = IngestSummary()
        summary.messagesReceived = messages.count
        summary.leftOnQueue = messages.count - ready.count
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
                summary.expired += changes.filter { $0.status == .expired }.count
                summary.filtered += changes.filter { $0.status == .filtered }.count
                metadata["changes"] = "\(outcome.storedChangeIDs.count)"
                metadata["duplicateChanges"] = "\(outcome.duplicateChanges)"
                logger.info("message ingested", metadata: metadata)
            }
        }
        summary.deleteFailures = await delete(ready.map(\.0))
        return summary
    }

    /// Receives after which a message whose records still cannot be read is stored
    /// as expired (with the error) instead of being left on the queue again.
    static let poisonReceiveCount = 5

    /// Turns one SQS message into what the audit log stores, or `nil` to leave it on
    /// the queue for a later try (its stream records could not be read this time).
    func prepare(_ message: SQSMessage, receivedAt: Date) async -> NewMessage? {
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
            let read: StreamRangeReader.RangeRead
            do {
                read = try await streams.read(batch)
            } catch {
                ReprocessorMetrics.recordFailure(error)
                guard message.receiveCount >= Self.poisonReceiveCount else {
                    logger.warning(
                        "could not read the batch's records; leaving the message on the queue: \(error)",
                        metadata: ["messageId": "\(message.messageID)", "receiveCount": "\(message.receiveCount)"])
                    return nil
                }
                read = .expired(reason: "records unreadable after \(message.receiveCount) receives: \(error)")
            }
            switch read {
            case .records(let records):
                disposition = .changes(
                    records.map { change(from: $0, streamARN: batch.streamARN, shardID: batch.shardID, at: receivedAt) })
            case .expired(let reason):
                logger.warning(
                    "batch expired: \(reason)",
                    metadata: ["messageId": "\(message.messageID)", "shard": "\(batch.shardID)"])
                disposition = .changes([
                    NewChange(
                        streamARN: batch.streamARN, shardID: batch.shardID, sequenceNumber: batch.startSequenceNumber,
                        eventID: nil, eventName: nil, keys: nil, documentID: nil, oldImage: nil, newImage: nil,
                        approximateCreationTime: nil, status: .expired, reason: reason, batchInfo: batch.batchInfoJSON)
                ])
            }
        }
        return NewMessage(
            messageID: message.messageID, body: message.body, format: envelope.format, correlationID: correlationID,
            errorText: errorText, receivedAt: receivedAt, receiveCount: message.receiveCount, sentAt: message.sentAt,
            disposition: disposition)
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
}

/// Totals across concurrent receivers.
actor RunningTotals {
    private(set) var value = IngestSummary()

    func add(_ summary: IngestSummary) -> IngestSummary {
        value.add(summary)
        return value
    }
}
