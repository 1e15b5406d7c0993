import Foundation
import StreamModel

/// A row of the changes table: what ingest stored (``ChangeContent``, whose fields read and
/// write as the record's own: `record.documentID`) and where the change stands now.
@dynamicMemberLookup
public struct ChangeRecord: Sendable, Hashable {
    /// The change's id.
    public var id: Int64
    /// The message it came in.
    public var messageID: String?
    /// The stream record's identity, key, document and images, as stored at ingest.
    public var content: ChangeContent
    /// Where it stands.
    public var status: ChangeStatus
    /// Apply attempts so far.
    public var attempts: Int
    /// When a failed change is due again.
    public var nextAttemptAt: Date?
    /// The last error (or the filter / expiry reason).
    public var lastError: String?
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
        self.content = ChangeContent(
            streamARN: streamARN, shardID: shardID, sequenceNumber: sequenceNumber, eventID: eventID, eventName: eventName,
            keys: keys, documentID: documentID, oldImage: oldImage, newImage: newImage,
            approximateCreationTime: approximateCreationTime, batchInfo: batchInfo)
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.correlationID = correlationID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A field of the change's ``content``.
    public subscript<Value>(dynamicMember field: WritableKeyPath<ChangeContent, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }
}
