import Foundation
import StreamModel

/// A row of the changes table.
public struct ChangeRecord: Sendable, Hashable {
    /// The change's id.
    public var id: Int64
    /// The message it came in.
    public var messageID: String?
    /// The stream's ARN.
    public var streamARN: String?
    /// The shard.
    public var shardID: String?
    /// The record's sequence number.
    public var sequenceNumber: SequenceNumber
    /// The record's event ID.
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE (nil for an expired batch placeholder).
    public var eventName: EventName?
    /// The item's key attributes.
    public var keys: Item?
    /// The search document it targets.
    public var documentID: String?
    /// The item before.
    public var oldImage: Item?
    /// The item after.
    public var newImage: Item?
    /// When DynamoDB recorded the change.
    public var approximateCreationTime: Date?
    /// Where it stands.
    public var status: ChangeStatus
    /// Apply attempts so far.
    public var attempts: Int
    /// When a failed change is due again.
    public var nextAttemptAt: Date?
    /// The last error (or the filter / expiry reason).
    public var lastError: String?
    /// For an expired batch: the DDBStreamBatchInfo.
    public var batchInfo: JSONValue?
    /// The correlation ID of its message.
    public var correlationID: String?
    /// When it was stored.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Makes a record from its fields.
    public init(
        id: Int64, messageID: String?, streamARN: String?, shardID: String?, sequenceNumber: SequenceNumber, eventID: String?,
        eventName: EventName?, keys: Item?, documentID: String?, oldImage: Item?, newImage: Item?,
        approximateCreationTime: Date?, status: ChangeStatus, attempts: Int, nextAttemptAt: Date?, lastError: String?,
        batchInfo: JSONValue?, correlationID: String?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.messageID = messageID
        self.streamARN = streamARN
        self.shardID = shardID
        self.sequenceNumber = sequenceNumber
        self.eventID = eventID
        self.eventName = eventName
        self.keys = keys
        self.documentID = documentID
        self.oldImage = oldImage
        self.newImage = newImage
        self.approximateCreationTime = approximateCreationTime
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.batchInfo = batchInfo
        self.correlationID = correlationID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
