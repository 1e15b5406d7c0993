import Foundation

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
