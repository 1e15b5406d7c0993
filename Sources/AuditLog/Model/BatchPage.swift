import Foundation
import StreamModel

/// One page of a batch's records, to commit with the batch's progress.
public struct BatchPage: Sendable, Hashable {
    /// The records of the range on this page, as changes (pending or filtered).
    public var changes: [NewChange]
    /// The last sequence number this page read (past the range's end, possibly); nil for an empty page.
    public var lastReadSequenceNumber: SequenceNumber?
    /// Whether every record of the range is now read: the batch becomes ``BatchStatus/read``.
    public var complete: Bool

    /// Makes a page.
    public init(changes: [NewChange], lastReadSequenceNumber: SequenceNumber?, complete: Bool) {
        self.changes = changes
        self.lastReadSequenceNumber = lastReadSequenceNumber
        self.complete = complete
    }
}
