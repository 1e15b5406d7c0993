import Foundation
import SQLite
import StreamModel

/// How one change settles once the write planned for it is known to have landed: the move
/// to make, and what to record instead when another process moved the change first.
public struct Settlement: Sendable, Hashable, Codable {
    /// The move.
    public var request: TransitionRequest
    /// Recorded (with no state change) when the move is refused because the change moved
    /// elsewhere, so that the write it reports still has its action.
    public var noteIfRefused: ActionEntry?

    /// Makes a settlement.
    public init(_ request: TransitionRequest, noteIfRefused: ActionEntry? = nil) {
        self.request = request
        self.noteIfRefused = noteIfRefused
    }
}

/// A write the engine is about to send to search, recorded before it is sent.
public struct NewWriteIntent: Sendable, Hashable {
    /// The search document.
    public var documentID: String
    /// `index` or `delete`.
    public var operation: WriteIntent.Operation
    /// `sync.sequenceNumber` of an index write.
    public var stampSequence: SequenceNumber?
    /// `sync.appliedAt` of an index write: with the sequence, what identifies this write in search.
    public var stampAppliedAt: String?
    /// How the changes settle once the write is known to have landed.
    public var settlements: [Settlement]
    /// When the write is a reconcile repair (it settles no change): its run and drift.
    public var repair: RepairMark?

    /// Makes an intent.
    public init(
        documentID: String, operation: WriteIntent.Operation, stampSequence: SequenceNumber?, stampAppliedAt: String?,
        settlements: [Settlement], repair: RepairMark? = nil
    ) {
        self.documentID = documentID
        self.operation = operation
        self.stampSequence = stampSequence
        self.stampAppliedAt = stampAppliedAt
        self.settlements = settlements
        self.repair = repair
    }
}

/// A recorded write intent whose outcome is not recorded yet.
public struct WriteIntent: Sendable, Hashable {
    /// The kind of write.
    public enum Operation: String, Sendable, Hashable, Codable {
        /// Index a document.
        case index
        /// Delete a document.
        case delete
    }

    /// The intent's id.
    public var id: Int64
    /// What was to be written, and how its changes settle.
    public var intent: NewWriteIntent
    /// When it was recorded.
    public var createdAt: Date
}

/// The moves to make once a write has landed, if its intent is still open.
public struct IntentCompletion: Sendable, Hashable {
    /// The intent; the settlements are made only when it is still open (nobody recovered it).
    public var intentID: Int64
    /// The settlements, with the write's response in their actions.
    public var settlements: [Settlement]
    /// The `reconciled` action of a reconcile repair (its intent's ``RepairMark`` names the run
    /// that counts it), carrying the write's response; nil for a change's write.
    public var repairAction: ActionEntry?

    /// Makes a completion.
    public init(intentID: Int64, settlements: [Settlement], repairAction: ActionEntry? = nil) {
        self.intentID = intentID
        self.settlements = settlements
        self.repairAction = repairAction
    }
}

/// Everything one step of the write engine records, committed in one transaction.
public struct EngineCommit: Sendable {
    /// Moves of changes whose outcome needs no (more) writing; refused ones are reported.
    public var settlements: [Settlement] = []
    /// Actions that change no state (a refused rollback, an interrupted write found later).
    public var notes: [(changeID: Int64, entry: ActionEntry)] = []
    /// Writes about to be sent.
    public var newIntents: [NewWriteIntent] = []
    /// Writes that landed.
    public var completions: [IntentCompletion] = []
    /// Intents whose write did not land: dropped without a record.
    public var droppedIntents: [Int64] = []

    /// An empty commit.
    public init() {}

    /// Whether there is nothing to commit.
    public var isEmpty: Bool {
        settlements.isEmpty && notes.isEmpty && newIntents.isEmpty && completions.isEmpty && droppedIntents.isEmpty
    }
}

/// What an ``EngineCommit`` did.
public struct EngineCommitResult: Sendable {
    /// Per settlement, in order: the change's new status, or why the move was refused.
    public var settlements: [Result<ChangeStatus, AuditLogError>]
    /// The ids of the new intents, in order.
    public var intentIDs: [Int64]
    /// Per completion, in order: the results of its settlements, or nil when its intent was
    /// already resolved by another process (which then recorded the write).
    public var completions: [[Result<ChangeStatus, AuditLogError>]?]
}

/// A write intent a commit took (deleted) to complete it.
private struct TakenIntent {
    /// Its document.
    var documentID: String
    /// For a reconcile repair: its run and drift kind.
    var repair: (runID: Int64, kind: String)?
}

/// What the audit log knows about one document, for the write engine's planners.
public struct DocumentAuditFacts: Sendable, Hashable {
    /// The highest sequence number among the document's applied changes.
    public var latestApplied: SequenceNumber?
    /// Changes of the document that later ones must wait for: parked, or failed and not yet due;
    /// in sequence-number order.
    public var blockers: [Blocker]

    /// A change that holds back later changes of its document.
    public struct Blocker: Sendable, Hashable {
        /// The change.
        public var id: Int64
        /// Its sequence number.
        public var sequenceNumber: SequenceNumber
        /// Parked, or failed.
        public var status: ChangeStatus

        /// Makes a blocker.
        public init(id: Int64, sequenceNumber: SequenceNumber, status: ChangeStatus) {
            self.id = id
            self.sequenceNumber = sequenceNumber
            self.status = status
        }
    }

    /// Makes facts.
    public init(latestApplied: SequenceNumber? = nil, blockers: [Blocker] = []) {
        self.latestApplied = latestApplied
        self.blockers = blockers
    }
}

extension AuditLog {
    /// The audit facts of several documents, read in one snapshot.
    /// - Parameters:
    ///   - documentIDs: The documents.
    ///   - now: Failed changes due after this time are blockers.
    /// - Returns: Facts for every document asked about (empty facts when the log knows nothing).
    /// - Throws: ``AuditLogError``.
    public func documentFacts(_ documentIDs: [String], now: Date) throws(AuditLogError) -> [String: DocumentAuditFacts] {
        var facts: [String: DocumentAuditFacts] = [:]
        for id in documentIDs { facts[id] = DocumentAuditFacts() }
        guard !documentIDs.isEmpty else { return facts }
        let ids = Array(Set(documentIDs))
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        // One statement (one snapshot, one round trip): the newest applied change of each
        // document (kind 0), then its blockers (kind 1).
        try statement { db in
            try db.forEachRow(
                """
                SELECT 0, NULL, document_id, max(sequence_key), NULL FROM changes INDEXED BY changes_applied
                WHERE status = 'applied' AND document_id IN (\(marks)) GROUP BY document_id
                UNION ALL
                SELECT 1, id, document_id, sequence_key, status FROM changes INDEXED BY changes_document
                WHERE document_id IN (\(marks))
                  AND (status = 'parked' OR (status = 'failed' AND ifnull(next_attempt_at, 0) > ?))
                """, ids + ids + [now.databaseMilliseconds]
            ) { row in
                let documentID = row.column(2) as String
                let key = row.column(3) as String
                guard row.column(0) as Int64 == 1 else {
                    guard let sequence = SequenceNumber(sortKey: key) else {
                        throw AuditLogError.corruptRow("document \(documentID): stored sequence key \(key) is not a sequence")
                    }
                    facts[documentID, default: DocumentAuditFacts()].latestApplied = sequence
                    return
                }
                let id = row.column(1) as Int64
                guard let sequence = SequenceNumber(sortKey: key), let status = ChangeStatus(rawValue: row.column(4) as String)
                else { throw AuditLogError.corruptRow("change \(id): sequence or status") }
                facts[documentID, default: DocumentAuditFacts()].blockers.append(
                    .init(id: id, sequenceNumber: sequence, status: status))
            }
        }
        // Read by id (the index that lists a document's changes); the planners want them in sequence order.
        for (documentID, documentFacts) in facts where documentFacts.blockers.count > 1 {
            facts[documentID]?.blockers.sort { ($0.sequenceNumber, $0.id) < ($1.sequenceNumber, $1.id) }
        }
        return facts
    }

    /// The due changes (pending, or failed and past their backoff) of some documents, in
    /// (document, sequence number, id) order, as replay decides them: without their old images,
    /// and with its new image only for each document's newest change (replay writes the newest
    /// state; the others' images are never read, so they are neither sent nor parsed).
    /// - Throws: ``AuditLogError``.
    public func dueChanges(documentIDs: [String], now: Date) throws(AuditLogError) -> [ChangeRecord] {
        let ids = Array(Set(documentIDs))
        guard !ids.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try statement { db in
            try db.query(
                """
                SELECT \(Self.dueColumns) FROM \(Rows.changesWithImages("changes INDEXED BY changes_due"))
                WHERE status IN ('pending', 'failed') AND (status = 'pending' OR ifnull(next_attempt_at, 0) <= ?)
                  AND ifnull(document_id, '') IN (\(marks))
                ORDER BY ifnull(document_id, ''), length(sequence_number), sequence_number, id
                """, [now.databaseMilliseconds] + ids
            ) { row in try Rows.change(from: row) }
        }
    }

    /// A change's columns without its old image, and with its new image only where no later due
    /// change of the same document follows (in the order `changes_due` gives and the query sorts
    /// by): every due change of the documents is in the result, so a window sees them all.
    private static let dueColumns = Rows.changeColumns(
        oldImage: "NULL",
        newImage: """
            CASE WHEN lead(changes.id) OVER (PARTITION BY ifnull(changes.document_id, '')
                ORDER BY length(changes.sequence_number), changes.sequence_number, changes.id) IS NULL
            THEN change_images.new_image_json END
            """)

    /// Records that replay is paused for `reason` (keeping the time it was first seen), or with
    /// `nil` that it got through.
    /// - Throws: ``AuditLogError``.
    public func recordReplayPause(_ reason: String?, at: Date) throws(AuditLogError) {
        let now = at.databaseMilliseconds
        try write { db in
            guard let reason else {
                try db.run("DELETE FROM replay_pause")
                return
            }
            try db.run(
                """
                INSERT INTO replay_pause (id, reason, since, checked_at) VALUES (1, ?1, ?2, ?2)
                ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, checked_at = excluded.checked_at
                """, [reason, now])
        }
    }

    /// Open write intents recorded at or before `recordedBefore`, oldest first: changes' writes
    /// and reconcile repairs alike (a repair's ``NewWriteIntent/repair`` names its run, with the
    /// run's actor and reason).
    /// - Throws: ``AuditLogError``.
    public func openWriteIntents(recordedBefore: Date, limit: Int) throws(AuditLogError) -> [WriteIntent] {
        try read { db in
            try db.query(
                """
                SELECT w.id, w.document_id, w.operation, w.stamp_sequence, w.stamp_applied_at, w.settlements_json,
                    w.created_at, w.reconcile_run_id, w.drift_kind, r.actor, r.reason
                FROM write_intents AS w INDEXED BY write_intents_created
                    LEFT JOIN reconcile_runs AS r ON r.id = w.reconcile_run_id
                WHERE w.created_at <= ? ORDER BY w.created_at, w.id LIMIT ?
                """, [recordedBefore.databaseMilliseconds, max(1, limit)]
            ) { row in try Self.writeIntent(from: row) }
        }
    }

    /// Commits one step of the write engine in one transaction (see ``EngineCommit``).
    /// - Parameters:
    ///   - step: What to record.
    ///   - at: The time of the step.
    ///   - fence: When given, the step is recorded only if this fence still holds its lease.
    ///   - claims: When given (a fleet on a shared store), the step is recorded only if this
    ///     worker still holds every one of these document claims, and they cover the document
    ///     of every new intent and every completed one.
    /// - Throws: ``AuditLogError`` `.storage` when the database fails, `.leaseLost` when `fence`
    ///   no longer holds its lease, a claim is gone, or a document of the step is not claimed;
    ///   then nothing is recorded. `.corrupt` when a completed repair intent names an unknown
    ///   drift kind.
    public func commit(_ step: EngineCommit, at: Date, fence: LeaseFence? = nil, claims: DocumentClaims? = nil)
        throws(AuditLogError) -> EngineCommitResult
    {
        let now = at.databaseMilliseconds
        return try write { db in
            try Self.check(fence, in: db)
            try Self.check(claims, covering: step.newIntents.map(\.documentID), now: now, in: db)
            // Set-wise, whatever the step's size: the intents it completes taken in one statement,
            // the state of every change it may move read in one, its new intents inserted many to a
            // statement, the moved rows written back and its actions appended at its end.
            let taken = try Self.takeIntents(step.completions.map(\.intentID), in: db)
            let changeIDs =
                step.settlements.map(\.request.id) + step.notes.map(\.changeID)
                + step.completions.flatMap { $0.settlements.map(\.request.id) }
            var moves = try ChangeMoves.read(changeIDs, in: db)
            // Every action of the step, in order, appended at its end many to a statement.
            var actions: [PendingAction] = []
            let settlements = try step.settlements.map { try Self.settle($0, with: &moves, actions: &actions) }
            for note in step.notes {
                guard let messageID = moves.messageID(ofChange: note.changeID) else {
                    throw AuditLogError(code: .notFound, description: "change \(note.changeID) does not exist")
                }
                actions.append(PendingAction(changeID: note.changeID, messageID: messageID, entry: note.entry))
            }
            let intentIDs = try Self.insertIntents(step.newIntents, at: now, in: db)
            var completions: [[Result<ChangeStatus, AuditLogError>]?] = []
            // Intents a completion of this step already took, or whose repair a landed later one dropped.
            var gone: Set<Int64> = []
            for completion in step.completions {
                // Gone: another process resolved the intent and recorded the write.
                guard let open = taken[completion.intentID], gone.insert(completion.intentID).inserted else {
                    completions.append(nil)
                    continue
                }
                if let claims, !claims.holds(open.documentID) {
                    throw AuditLogError(
                        code: .leaseLost,
                        description: "\(claims.holder) holds no claim on document \(open.documentID); nothing written")
                }
                if let action = completion.repairAction, let repair = open.repair {
                    try Self.recordRepair(open.documentID, repair, intentID: completion.intentID, at: now, in: db)
                    // The older repair intents of the document it dropped, should this step complete them too.
                    for (id, other) in taken
                    where id < completion.intentID && other.documentID == open.documentID && other.repair != nil {
                        gone.insert(id)
                    }
                    actions.append(PendingAction(changeID: nil, messageID: nil, entry: action))
                }
                completions.append(try completion.settlements.map { try Self.settle($0, with: &moves, actions: &actions) })
            }
            if !step.droppedIntents.isEmpty {
                try db.run(
                    "DELETE FROM write_intents WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
                    [Self.jsonArray(step.droppedIntents.map(String.init))])
            }
            try moves.write(at: now, in: db)
            try Self.appendActions(actions, at: now, in: db)
            return EngineCommitResult(settlements: settlements, intentIDs: intentIDs, completions: completions)
        }
    }

    /// One settlement inside the caller's transaction, against `moves`: the move, or its note
    /// when the move is refused; the action either records goes to `actions`.
    private static func settle(_ settlement: Settlement, with moves: inout ChangeMoves, actions: inout [PendingAction])
        throws -> Result<ChangeStatus, AuditLogError>
    {
        do {
            return .success(try moves.move(settlement.request, actions: &actions))
        } catch {
            guard let refusal = error as? AuditLogError, [.notFound, .illegalTransition].contains(refusal.code) else {
                throw error
            }
            if refusal.code == .illegalTransition, let note = settlement.noteIfRefused {
                let messageID = moves.messageID(ofChange: settlement.request.id)
                actions.append(PendingAction(changeID: settlement.request.id, messageID: messageID ?? nil, entry: note))
            }
            return .failure(refusal)
        }
    }

    /// Inserts `intents`, many to a statement, inside the caller's transaction.
    /// - Returns: Their ids, in order.
    private static func insertIntents(_ intents: [NewWriteIntent], at now: Int64, in db: AuditDatabase) throws -> [Int64] {
        guard !intents.isEmpty else { return [] }
        var values: [SQLValue] = []
        values.reserveCapacity(intents.count * 8)
        for intent in intents {
            let settlements: String
            do {
                settlements = String(decoding: try JSONEncoder().encode(intent.settlements), as: UTF8.self)
            } catch {
                throw AuditLogError(code: .storage, description: "cannot encode a write intent: \(error)")
            }
            values += [
                .text(intent.documentID), .text(intent.operation.rawValue), intent.stampSequence?.digits.sqlValue ?? .null,
                intent.stampAppliedAt.sqlValue, .text(settlements), .integer(now), intent.repair?.runID.sqlValue ?? .null,
                intent.repair?.kind.sqlValue ?? .null,
            ]
        }
        // One statement's rows take ascending ids in the order of its VALUES (the store's id
        // sequence on PostgreSQL, the next rowid on SQLite), and its statements run in order.
        let ids = try db.insertRows(
            into: "write_intents",
            columns: [
                "document_id", "operation", "stamp_sequence", "stamp_applied_at", "settlements_json", "created_at",
                "reconcile_run_id", "drift_kind",
            ],
            values: values, suffix: "RETURNING id"
        ) { $0.column(0) as Int64 }
        guard ids.count == intents.count else {
            throw AuditLogError(code: .storage, description: "inserted \(ids.count) write intents of \(intents.count)")
        }
        return ids.sorted()
    }

    /// Takes (deletes) the open intents among `ids`, inside the caller's transaction, in one statement.
    /// - Returns: Each one taken: its document and, for a reconcile repair, its run and drift kind;
    ///   the others were resolved already.
    private static func takeIntents(_ ids: [Int64], in db: AuditDatabase) throws -> [Int64: TakenIntent] {
        guard !ids.isEmpty else { return [:] }
        var taken: [Int64: TakenIntent] = [:]
        try db.forEachRow(
            """
            DELETE FROM write_intents WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))
            RETURNING id, document_id, reconcile_run_id, drift_kind
            """, [jsonArray(Array(Set(ids)).map(String.init))]
        ) { row in
            let runID = row.column(2) as Int64?
            let kind = row.column(3) as String?
            taken[row.column(0)] = TakenIntent(
                documentID: row.column(1), repair: runID.flatMap { run in kind.map { (runID: run, kind: $0) } })
        }
        return taken
    }

    private static func writeIntent(from row: any SQLRow) throws -> WriteIntent {
        let id = row.column(0) as Int64
        guard let operation = WriteIntent.Operation(rawValue: row.column(2) as String) else {
            throw AuditLogError.corruptRow("write intent \(id): operation")
        }
        let stampText = row.column(3) as String?
        let settlements = try JSONDecoder().decode([Settlement].self, from: Data((row.column(5) as String).utf8))
        let repair = try (row.column(7) as Int64?).map { runID in
            guard let kind = row.column(8) as String?, let actor = row.column(9) as String? else {
                throw AuditLogError.corruptRow("write intent \(id): a repair without its drift kind or run")
            }
            return RepairMark(runID: runID, kind: kind, actor: actor, reason: row.column(10))
        }
        return WriteIntent(
            id: id,
            intent: NewWriteIntent(
                documentID: row.column(1), operation: operation, stampSequence: stampText.flatMap { SequenceNumber($0) },
                stampAppliedAt: row.column(4), settlements: settlements, repair: repair),
            createdAt: Date(databaseMilliseconds: row.column(6) as Int64))
    }
}
