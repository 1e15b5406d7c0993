import Foundation
import StreamModel

/// A stored failed batch.
public struct BatchRecord: Sendable, Hashable {
    /// Row id.
    public var id: Int64
    /// The message that named it first.
    public var messageID: String
    /// The stream.
    public var streamARN: String
    /// The shard.
    public var shardID: String
    /// First sequence number of the range.
    public var startSequenceNumber: SequenceNumber
    /// Last sequence number of the range.
    public var endSequenceNumber: SequenceNumber
    /// The `DDBStreamBatchInfo` object as received.
    public var batchInfo: JSONValue
    /// When the range's last record reached the stream (see ``NewBatch/lastRecordAt``).
    public var lastRecordAt: Date
    /// Where it is in its life.
    public var status: BatchStatus
    /// Passes that failed with a transient error since the last progress.
    public var attempts: Int
    /// Not read again before this time (backoff); nil: due now.
    public var nextAttemptAt: Date?
    /// The last error, or why it expired.
    public var lastError: String?
    /// The last sequence number read (nil: nothing read yet); reading resumes after it.
    public var lastReadSequenceNumber: SequenceNumber?
    /// Records of the range read so far (stored now or found already stored).
    public var recordsRead: Int
    /// Since when it has waited for its records.
    public var waitingSince: Date
    /// When it was stored.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Makes a record.
    public init(
        id: Int64, messageID: String, streamARN: String, shardID: String, startSequenceNumber: SequenceNumber,
        endSequenceNumber: SequenceNumber, batchInfo: JSONValue, lastRecordAt: Date, status: BatchStatus, attempts: Int,
        nextAttemptAt: Date?, lastError: String?, lastReadSequenceNumber: SequenceNumber?, recordsRead: Int,
        waitingSince: Date, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.streamARN = streamARN
        self.shardID = shardID
        self.startSequenceNumber = startSequenceNumber
        self.endSequenceNumber = endSequenceNumber
        self.batchInfo = batchInfo
        self.lastRecordAt = lastRecordAt
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.lastReadSequenceNumber = lastReadSequenceNumber
        self.recordsRead = recordsRead
        self.waitingSince = waitingSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
