import Foundation
import StreamModel

/// A failed batch to store: the range a format-A message names.
public struct NewBatch: Sendable, Hashable {
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
    /// When the range's last record reached the stream (as the message says, else when it was sent):
    /// the stream keeps records 24 hours from then.
    public var lastRecordAt: Date

    /// Makes a batch to store.
    public init(
        streamARN: String, shardID: String, startSequenceNumber: SequenceNumber, endSequenceNumber: SequenceNumber,
        batchInfo: JSONValue, lastRecordAt: Date
    ) {
        self.streamARN = streamARN
        self.shardID = shardID
        self.startSequenceNumber = startSequenceNumber
        self.endSequenceNumber = endSequenceNumber
        self.batchInfo = batchInfo
        self.lastRecordAt = lastRecordAt
    }
}
