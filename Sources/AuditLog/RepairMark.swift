import Foundation
import SQLite
import StreamModel

/// What makes a write intent a reconcile repair (migration 0006): the run it belongs to and the
/// drift it repairs. A repair settles no change; once it lands, its `reconciled` action is
/// recorded and its run counts it (found and repaired), in the transaction that completes it.
public struct RepairMark: Sendable, Hashable {
    /// The reconcile run.
    public var runID: Int64
    /// The drift repaired (`missing`, `stale`, `orphaned`, `differs`).
    public var kind: String
    /// Who started the run: its repairs' actor (read from the run, not stored with the intent).
    public var actor: String
    /// Why (read from the run).
    public var reason: String?

    /// Makes a mark.
    public init(runID: Int64, kind: String, actor: String, reason: String?) {
        self.runID = runID
        self.kind = kind
        self.actor = actor
        self.reason = reason
    }
}

extension AuditLog {
    /// The counters of `reconcile_runs`, one per drift kind (so a kind is never spliced into SQL unchecked).
    private enum DriftColumn: String {
        case missing, stale, orphaned, differs
    }

    /// Records a landed repair inside the caller's transaction (its intent already taken; the
    /// caller appends its `reconciled` action): its count in its run (found and repaired, with a
    /// sample), and the drop of the document's older repair intents (a repair that landed after them was decided
    /// on a read that showed their writes had not).
    static func recordRepair(
        _ documentID: String, _ repair: (runID: Int64, kind: String), intentID: Int64, at now: Int64, in db: AuditDatabase
    ) throws {
        guard let column = DriftColumn(rawValue: repair.kind) else {
            throw AuditLogError.corruptRow("write intent \(intentID): drift kind \(repair.kind)")
        }
        try db.run(
            """
            DELETE FROM write_intents INDEXED BY write_intents_document
            WHERE document_id = ? AND id < ? AND reconcile_run_id IS NOT NULL
            """, [documentID, intentID])
        guard var run = try reconcileRun(id: repair.runID, in: db) else { return }
        if (run.samples[repair.kind]?.count ?? 0) < reconcileSampleLimit {
            run.samples[repair.kind, default: []].append(documentID)
        }
        try db.run(
            """
            UPDATE reconcile_runs SET \(column.rawValue) = \(column.rawValue) + 1, repaired = repaired + 1,
                samples_json = ?, updated_at = ?
            WHERE id = ?
            """, [JSONValue.object(run.samples.mapValues { .array($0.map(JSONValue.string)) }).serialized, now, run.id])
    }
}
