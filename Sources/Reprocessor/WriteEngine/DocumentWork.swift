import AuditLog
import StreamModel

/// One document's work for the engine: what to decide, with which planner.
enum DocumentWork: Sendable {
    /// Replay the document's due changes.
    case replay(documentID: String, changes: [ChangeRecord])
    /// Roll one applied change back.
    case rollback(ChangeRecord, documentID: String, force: Bool)
    /// Rewrite the document from the table.
    case resync(ChangeRecord, documentID: String)
    /// Repair a document reconcile found drifted: decided again from search, the table and the
    /// audit log by the ``Reconciler``, for a run.
    case repair(documentID: String, RepairOrder)

    var documentID: String {
        switch self {
        case .replay(let id, _), .rollback(_, let id, _), .resync(_, let id), .repair(let id, _): id
        }
    }

    var changes: [ChangeRecord] {
        switch self {
        case .replay(_, let changes): changes
        case .rollback(let change, _, _), .resync(let change, _): [change]
        case .repair: []
        }
    }

    /// The reconcile run a repair is for; nil for a change's work.
    var repairOrder: RepairOrder? {
        guard case .repair(_, let order) = self else { return nil }
        return order
    }

    /// The item key to read from the table (every change of a document has the same; a repair's
    /// is the artist's METADATA key).
    var keys: Item? {
        guard case .repair(let documentID, _) = self else { return changes.lazy.compactMap(\.keys).first }
        return Self.artistKeys(documentID)
    }

    /// The table key of an artist document.
    static func artistKeys(_ documentID: String) -> Item {
        ["PK": .string("ARTIST#\(documentID)"), "SK": .string("METADATA")]
    }

    /// Replay work per document, documents in the order they first appear; a change named twice
    /// counts once, and changes without a document are left out. Only what replay reads is kept
    /// of the images — the new image of each document's newest change — so that the rounds in
    /// flight hold one item per document, not two per change.
    static func replays(of changes: [ChangeRecord]) -> [DocumentWork] {
        var byDocument: [String: [ChangeRecord]] = [:]
        var order: [String] = []
        for change in changes {
            guard let documentID = change.documentID else { continue }
            if byDocument[documentID] == nil { order.append(documentID) }
            if !(byDocument[documentID] ?? []).contains(where: { $0.id == change.id }) {
                byDocument[documentID, default: []].append(change)
            }
        }
        return order.map { documentID in
            let changes = byDocument[documentID] ?? []
            let newest = changes.max { ($0.sequenceNumber, $0.id) < ($1.sequenceNumber, $1.id) }?.id
            return .replay(
                documentID: documentID,
                changes: changes.map { change in
                    var lean = change
                    lean.oldImage = nil
                    if change.id != newest { lean.newImage = nil }
                    return lean
                })
        }
    }
}

/// Who a reconcile repair is made for: the run, recorded on the repair's intent and action.
struct RepairOrder: Sendable, Hashable {
    /// The reconcile run.
    var runID: Int64
    /// Who started it.
    var actor: String
    /// Why.
    var reason: String?
}
