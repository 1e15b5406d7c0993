import Foundation
import StreamModel

/// What storing one page did.
public struct BatchPageOutcome: Sendable, Hashable {
    /// Changes stored for the first time.
    public var storedChangeIDs: [Int64]
    /// Changes already stored (forwarded by another message, or read before a crash).
    public var duplicateChanges: Int
    /// The batch after the page.
    public var batch: BatchRecord

    /// Makes an outcome.
    public init(storedChangeIDs: [Int64], duplicateChanges: Int, batch: BatchRecord) {
        self.storedChangeIDs = storedChangeIDs
        self.duplicateChanges = duplicateChanges
        self.batch = batch
    }
}
