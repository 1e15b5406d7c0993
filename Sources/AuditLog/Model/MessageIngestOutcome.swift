import Foundation
import StreamModel

/// What ingest did with one message.
public struct MessageIngestOutcome: Sendable, Hashable {
    /// The message.
    public var messageID: String
    /// The message ID was seen before: nothing was stored.
    public var duplicateMessage: Bool
    /// The ids of the changes stored, in the message's order.
    public var storedChangeIDs: [Int64]
    /// Changes already known (same stream ARN + sequence number, or same event ID).
    public var duplicateChanges: Int
    /// The batch the message named (format A), stored now or before: nil for other formats.
    public var batchID: Int64?
    /// The message named a batch another message had already named.
    public var duplicateBatch: Bool

    /// Makes an outcome.
    public init(
        messageID: String, duplicateMessage: Bool, storedChangeIDs: [Int64], duplicateChanges: Int, batchID: Int64? = nil,
        duplicateBatch: Bool = false
    ) {
        self.messageID = messageID
        self.duplicateMessage = duplicateMessage
        self.storedChangeIDs = storedChangeIDs
        self.duplicateChanges = duplicateChanges
        self.batchID = batchID
        self.duplicateBatch = duplicateBatch
    }
}
