import Foundation
import StreamModel

/// A reconcile repair about to be sent to search, recorded before it is sent (migration 0006):
/// the change-less form of a write intent. It names the run the repair belongs to and the drift
/// it repairs; the stamp (index) or the document's absence (delete) identifies the write in search.
public struct RepairIntent: Sendable, Hashable {
    /// The reconcile run.
    public var runID: Int64
    /// The search document.
    public var documentID: String
    /// The drift repaired (`missing`, `stale`, `orphaned`, `differs`).
    public var kind: String
    /// `index` (the table's item) or `delete` (an orphan).
    public var operation: WriteIntent.Operation
    /// `sync.sequenceNumber` of an index write.
    public var stampSequence: SequenceNumber?
    /// `sync.appliedAt` of an index write: with the sequence, what identifies this write in search.
    public var stampAppliedAt: String?

    /// Makes an intent.
    public init(
        runID: Int64, documentID: String, kind: String, operation: WriteIntent.Operation, stampSequence: SequenceNumber?,
        stampAppliedAt: String?
    ) {
        self.runID = runID
        self.documentID = documentID
        self.kind = kind
        self.operation = operation
        self.stampSequence = stampSequence
        self.stampAppliedAt = stampAppliedAt
    }
}

/// A recorded repair intent whose write is not recorded yet, with its run's actor and reason.
public struct OpenRepairIntent: Sendable, Hashable {
    /// The intent's id.
    public var id: Int64
    /// What was to be written.
    public var intent: RepairIntent
    /// Who started the run (its repairs' actor).
    public var actor: String
    /// Why (its repairs' reason).
    public var reason: String?
    /// When it was recorded.
    public var createdAt: Date
}

/// A repair known to have landed: its intent is deleted and its `reconciled` action recorded in
/// one transaction — unless another process already did both (the intent is gone), so that every
/// repair has exactly one action.
public struct RepairCompletion: Sendable, Hashable {
    /// The intent.
    public var intentID: Int64
    /// The run the repair belongs to.
    public var runID: Int64
    /// The document.
    public var documentID: String
    /// The drift repaired.
    public var kind: String
    /// The `reconciled` action, carrying the write's response.
    public var action: ActionEntry

    /// Makes a completion.
    public init(intentID: Int64, runID: Int64, documentID: String, kind: String, action: ActionEntry) {
        self.intentID = intentID
        self.runID = runID
        self.documentID = documentID
        self.kind = kind
        self.action = action
    }
}
