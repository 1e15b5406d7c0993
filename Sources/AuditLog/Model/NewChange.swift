import Foundation
import StreamModel

/// A change to store at ingest: one failed stream record, or a placeholder for an expired batch.
public struct NewChange: Sendable, Hashable {
    /// The stream's ARN (part of the change's identity).
    public var streamARN: String?
    /// The shard the record came from.
    public var shardID: String?
    /// The record's sequence number (part of the change's identity).
    public var sequenceNumber: SequenceNumber
    /// The record's event ID (an identity of its own when present).
    public var eventID: String?
    /// INSERT, MODIFY or REMOVE; nil only for an expired batch placeholder.
    public var eventName: EventName?
    /// The item's key attributes.
    public var keys: Item?
    /// The search document the change targets (nil when it is not an artist record).
    public var documentID: String?
    /// The item before the change.
    public var oldImage: Item?
    /// The item after the change.
    public var newImage: Item?
    /// When DynamoDB recorded the change.
    public var approximateCreationTime: Date?
    /// `.pending`, `.filtered` or `.expired`: ingest refuses any other status.
    public var status: ChangeStatus
    /// Why it is filtered or expired; stored as the ingest action's reason and as `lastError`.
    public var reason: String?
    /// For an expired batch: the DDBStreamBatchInfo object as received.
    public var batchInfo: JSONValue?

    /// Makes a change to ingest.
    public init(
        streamARN: String? = nil, shardID: String? = nil, sequenceNumber: SequenceNumber, eventID: String? = nil,
        eventName: EventName? = nil, keys: Item? = nil, documentID: String? = nil, oldImage: Item? = nil,
        newImage: Item? = nil, approximateCreationTime: Date? = nil, status: ChangeStatus = .pending,
        reason: String? = nil, batchInfo: JSONValue? = nil
    ) {
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
        self.reason = reason
        self.batchInfo = batchInfo
    }
}
