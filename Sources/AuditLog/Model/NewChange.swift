import Foundation
import StreamModel

/// A change to store at ingest: one failed stream record, or a placeholder for an expired batch.
/// Its record's fields (``ChangeContent``) read and write as its own: `change.documentID`.
@dynamicMemberLookup
public struct NewChange: Sendable, Hashable {
    /// The stream record's identity, key, document and images.
    public var content: ChangeContent
    /// `.pending`, `.filtered` or `.expired`: ingest refuses any other status.
    public var status: ChangeStatus
    /// Why it is filtered or expired; stored as the ingest action's reason and as `lastError`.
    public var reason: String?

    /// Makes a change to ingest.
    public init(
        streamARN: String? = nil, shardID: String? = nil, sequenceNumber: SequenceNumber, eventID: String? = nil,
        eventName: EventName? = nil, keys: Item? = nil, documentID: String? = nil, oldImage: Item? = nil,
        newImage: Item? = nil, approximateCreationTime: Date? = nil, status: ChangeStatus = .pending,
        reason: String? = nil, batchInfo: JSONValue? = nil
    ) {
        self.content = ChangeContent(
            streamARN: streamARN, shardID: shardID, sequenceNumber: sequenceNumber, eventID: eventID, eventName: eventName,
            keys: keys, documentID: documentID, oldImage: oldImage, newImage: newImage,
            approximateCreationTime: approximateCreationTime, batchInfo: batchInfo)
        self.status = status
        self.reason = reason
    }

    /// A field of the change's ``content``.
    public subscript<Value>(dynamicMember field: WritableKeyPath<ChangeContent, Value>) -> Value {
        get { content[keyPath: field] }
        set { content[keyPath: field] = newValue }
    }
}
