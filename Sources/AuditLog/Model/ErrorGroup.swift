import Foundation
import StreamModel

/// Changes whose errors share one fingerprint (``FailureFingerprint``): one failure group.
public struct ErrorGroup: Sendable, Hashable {
    /// The group id (``FailureFingerprint/groupID``), which `--group` and `group` take.
    public var id: String
    /// The fingerprint: the error text with ids, values and numbers masked.
    public var fingerprint: String
    /// One full error text of the group, as recorded: its newest change's.
    public var error: String
    /// How many changes have it.
    public var count: Int
    /// How many distinct documents those changes are about.
    public var documents: Int
    /// The oldest such change's creation time.
    public var firstSeen: Date
    /// The newest such change's creation time.
    public var lastSeen: Date
    /// How many are in each status (only statuses that occur).
    public var statuses: [ChangeStatus: Int]

    /// Makes a group.
    public init(
        id: String, fingerprint: String, error: String, count: Int, documents: Int, firstSeen: Date, lastSeen: Date,
        statuses: [ChangeStatus: Int]
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.error = error
        self.count = count
        self.documents = documents
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.statuses = statuses
    }
}
