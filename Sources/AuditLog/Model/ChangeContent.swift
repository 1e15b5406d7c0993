import Foundation
import StreamModel

/// What a change is, as ingest stores it and every later read gives it back: the stream
/// record's identity, the item's key, the search document it targets and both images.
/// ``NewChange`` (what ingest stores) and ``ChangeRecord`` (a stored row) both embed it, and
/// reach its fields as their own.
public struct ChangeContent: Sendable, Hashable {
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
    /// For an expired batch placeholder: the DDBStreamBatchInfo object as received.
    public var batchInfo: JSONValue?

    /// Makes the content of a change.
    public init(
        streamARN: String? = nil, shardID: String? = nil, sequenceNumber: SequenceNumber, eventID: String? = nil,
        eventName: EventName? = nil, keys: Item? = nil, documentID: String? = nil, oldImage: Item? = nil,
        newImage: Item? = nil, approximateCreationTime: Date? = nil, batchInfo: JSONValue? = nil
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
        self.batchInfo = batchInfo
    }
}
