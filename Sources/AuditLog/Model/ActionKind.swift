import Foundation
import StreamModel

/// What an action records. Raw values are what the database stores and the CLI prints.
public enum ActionKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A change was stored from a DLQ message.
    case ingested
    /// A message body could not be understood and was stored raw.
    case quarantined
    /// A batch's records were gone from the stream.
    case expired
    /// A change is not an artist record.
    case filtered
    /// A change was written to the search index.
    case applied
    /// An apply failed.
    case failed
    /// A change was parked for an operator.
    case parked
    /// A newer change already won.
    case superseded
    /// An operator (or the resync request) asked for another try.
    case retried
    /// An operator skipped a change.
    case skipped
    /// A change was rolled back.
    case rolledBack = "rolled_back"
    /// A document was made to match the table's current item.
    case resynced
    /// A write was refused because the live document moved on (e.g. a refused rollback).
    case conflict
    /// A change arrived again in another message.
    case duplicate
    /// A reconcile run repaired a document that had drifted from the table (no change or message:
    /// the response names the run and the document).
    case reconciled
    /// A store was rebuilt by salvage from what could still be read of a damaged one (no change or
    /// message: the response lists per table the rows read and the id ranges that could not be).
    case salvaged
    /// An operator deleted a quarantined message from the quarantine (the message is kept in the
    /// audit log; it no longer waits).
    case deleted
    /// An operator had a quarantined message's kept body parsed again and stored what it carries.
    case reingested
}
