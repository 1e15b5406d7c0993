import Foundation
import StreamModel

/// What a message carried: changes, or nothing usable.
public enum MessageDisposition: Sendable, Hashable {
    /// The changes the message carried (possibly none).
    case changes([NewChange])
    /// The body could not be understood; it is stored raw with this reason.
    case quarantined(reason: String)
    /// The body names a failed batch (format A): the batch is stored, its records are read later.
    case batch(NewBatch)
}
