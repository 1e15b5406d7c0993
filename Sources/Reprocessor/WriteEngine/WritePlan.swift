import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// What the planners know about one document when they decide (DESIGN §5).
public struct DocumentFacts: Sendable, Hashable {
    /// The live document, read just before (nil when search does not have it).
    public var live: OpenSearchDocument?
    /// What the audit log knows: the newest applied sequence and the blocking changes.
    public var audit: DocumentAuditFacts
    /// The table's current item, when the planner asked for it.
    public var table: TableState

    /// Makes facts.
    public init(live: OpenSearchDocument?, audit: DocumentAuditFacts = .init(), table: TableState = .unread) {
        self.live = live
        self.audit = audit
        self.table = table
    }

    /// `sync.sequenceNumber` of the live document.
    public var liveSequence: SequenceNumber? { live.flatMap { SyncTransform.syncedSequenceNumber(in: $0.source) } }
    /// `sync.eventName` of the live document: INSERT, MODIFY, REMOVE, or the engine's own marks.
    public var liveEventName: String? { live?.source["sync"]?["eventName"]?.stringValue }
    /// `sync.appliedAt` of the live document.
    public var liveAppliedAt: String? { live?.source["sync"]?["appliedAt"]?.stringValue }
    /// Whether the live document is a copy of the table's item (written by a resync or in place of an
    /// older change), so newer changes must be checked against the table again.
    public var liveIsTableCopy: Bool { liveEventName == WritePlanner.resyncMark }
}

/// The table's current item, as a planner sees it.
public enum TableState: Sendable, Hashable {
    /// Not read (the planner did not need it yet).
    case unread
    /// The item is gone.
    case absent
    /// The item as it is now.
    case present(Item)
}

/// One write to search that a plan asks for.
public struct PlannedWrite: Sendable, Hashable {
    /// The `_bulk` operation, conditional on the live document read.
    public var operation: BulkOperation
    /// The document written (`null` for a delete); recorded in the action's response.
    public var written: JSONValue
    /// `sync.sequenceNumber` written.
    public var stampSequence: SequenceNumber?
    /// `sync.appliedAt` written.
    public var stampAppliedAt: String?

    /// What its write intent records it as: a delete when it writes no document.
    var intentOperation: WriteIntent.Operation { written == .null ? .delete : .index }
}

/// How one change settles under a plan.
public struct ChangeDecision: Sendable, Hashable {
    /// The change, as read when planning.
    public var change: ChangeRecord
    /// What to report when the plan goes through.
    public var outcome: ChangeOutcome
    /// One line saying why.
    public var message: String
    /// The move to make (nil: the status stays as it is).
    public var transition: TransitionRequest?
    /// An action to record without a state change (a refused rollback).
    public var note: ActionEntry?
    /// Whether it settles only once the document's write has landed.
    public var needsWrite: Bool
}

/// A plan for one document: at most one write, and how every change looked at settles.
public enum DocumentPlan: Sendable, Hashable {
    /// The planner needs the table's current item to decide; read it and plan again.
    case needsTable
    /// The decision.
    case decided(write: PlannedWrite?, decisions: [ChangeDecision])
}
