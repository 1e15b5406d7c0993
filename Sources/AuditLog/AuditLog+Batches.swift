import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// One batch by id (nil when there is none).
    /// - Throws: ``AuditLogError``.
    public func batch(id: Int64) throws(AuditLogError) -> BatchRecord? {
        try read { db in try Self.batch(id: id, in: db) }
    }

    static func batch(id: Int64, in db: AuditDatabase) throws -> BatchRecord? {
        try db.queryOne("SELECT \(Rows.batchColumns) FROM batches WHERE id = ?", [id]) { row in try Rows.batch(from: row) }
    }

    /// Pending batches due at `now` (no backoff delay left), nearest their stream's retention first:
    /// the range whose last record reached the stream longest ago.
    /// - Parameters:
    ///   - now: The time the delays are compared with.
    ///   - limit: Most batches returned.
    /// - Throws: ``AuditLogError``.
    public func dueBatches(now: Date, limit: Int) throws(AuditLogError) -> [BatchRecord] {
        try read { db in
            var batches: [BatchRecord] = []
            try db.forEachRow(
                """
                SELECT \(Rows.batchColumns) FROM batches INDEXED BY batches_due_by_age
                WHERE status = 'pending' AND ifnull(next_attempt_at, 0) <= ? ORDER BY last_record_at, id LIMIT ?
                """, [now.databaseMilliseconds, max(limit, 0)]
            ) { row in batches.append(try Rows.batch(from: row)) }
            return batches
        }
    }

    /// Batches by status, newest first, a page at a time.
    /// - Parameters:
    ///   - statuses: The statuses to list (every status when empty).
    ///   - limit: Most rows in the page.
    ///   - cursor: The previous page's `next`.
    /// - Returns: The page and the cursor of the next one (nil at the end).
    /// - Throws: ``AuditLogError``: `.invalidCursor`.
    public func listBatches(statuses: Set<BatchStatus> = [], limit: Int, cursor: String? = nil) throws(AuditLogError)
        -> Page<BatchRecord>
    {
        let before = try cursor.map { (text) throws(AuditLogError) -> Int64 in
            let decoded = try PageCursor(decoding: text, listing: "batches", fieldCount: 1)
            guard let id = Int64(decoded.fields[0]) else {
                throw AuditLogError(code: .invalidCursor, description: "cursor \(text.prefix(40)) is not a batches cursor")
            }
            return id
        }
        let wanted = statuses.isEmpty ? BatchStatus.allCases : statuses.sorted { $0.rawValue < $1.rawValue }
        let pageSize = min(max(limit, 1), 1000)
        return try read { db in
            // One ordered stream per status (each served by batches_status), merged.
            var rows: [BatchRecord] = []
            for status in wanted {
                try db.forEachRow(
                    """
                    SELECT \(Rows.batchColumns) FROM batches INDEXED BY batches_status
                    WHERE status = ? AND id < ? ORDER BY id DESC LIMIT ?
                    """, [status.rawValue, before ?? Int64.max, pageSize + 1]
                ) { row in rows.append(try Rows.batch(from: row)) }
            }
            rows.sort { $0.id > $1.id }
            let next = rows.count > pageSize ? rows[pageSize - 1].id : nil
            return Page(
                rows: Array(rows.prefix(pageSize)),
                next: next.map { PageCursor(listing: "batches", fields: [String($0)]).encoded })
        }
    }

    /// Stores one page of a pending batch's records with the batch's progress, in one
    /// transaction: a crash leaves either both or neither, and reading resumes after the
    /// last sequence number committed.
    ///
    /// Changes are stored as ingest stores them (identity: stream ARN + sequence number, or
    /// event ID; a record already stored, forwarded on its own or read before a crash, is a
    /// duplicate), under the message that named the batch. A complete page makes the batch
    /// `read` and appends an `ingested` action for its message saying so.
    /// - Parameters:
    ///   - batchID: The batch.
    ///   - page: The page's changes (pending or filtered) and progress.
    ///   - at: The time of the changes' creation and the actions.
    ///   - fence: When given, nothing is stored unless this fence still holds its lease.
    /// - Returns: What was stored and the batch after the page.
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition` when the batch is no longer
    ///   pending or a change is not pending or filtered, `.leaseLost`, `.storage`.
    public func storeBatchPage(_ batchID: Int64, _ page: BatchPage, at: Date, fence: LeaseFence? = nil)
        throws(AuditLogError) -> BatchPageOutcome
    {
        for change in page.changes where ![.pending, .filtered].contains(change.status) {
            throw AuditLogError(
                code: .illegalTransition,
                description: "batch \(batchID): a record is stored as pending or filtered, not \(change.status.rawValue)")
        }
        let now = at.databaseMilliseconds
        return try write { db in
            try Self.check(fence, in: db)
            let batch = try Self.pendingBatch(batchID, in: db)
            var rows = IngestRows()
            let (stored, duplicates) = try Self.storeChanges(
                page.changes, messageID: batch.messageID, messageFingerprint: nil, now: now, into: &rows, in: db)
            try db.run(
                """
                UPDATE batches SET status = ?, attempts = 0, next_attempt_at = NULL, last_error = NULL,
                    last_read_key = ifnull(?, last_read_key), last_read_sequence = ifnull(?, last_read_sequence),
                    records_read = records_read + ?, updated_at = ?
                WHERE id = ?
                """,
                [
                    (page.complete ? BatchStatus.read : .pending).rawValue, page.lastReadSequenceNumber?.sortKey,
                    page.lastReadSequenceNumber?.digits, page.changes.count, now, batchID,
                ])
            if page.complete {
                rows.append(
                    changeID: nil, messageID: batch.messageID,
                    ActionEntry(
                        action: .ingested, reason: "every record of the range read from the stream",
                        outcome:
                            "batch \(batchID) \(BatchStatus.read.rawValue): \(batch.recordsRead + page.changes.count) records"))
            }
            try rows.write(at: now, in: db)
            guard let updated = try Self.batch(id: batchID, in: db) else {
                throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
            }
            return BatchPageOutcome(storedChangeIDs: stored, duplicateChanges: duplicates, batch: updated)
        }
    }

    /// Puts a pending batch off after a transient failure: one more attempt, the error, the
    /// time before which it is not read again. Its progress is kept.
    /// - Parameters:
    ///   - batchID: The batch.
    ///   - error: What failed.
    ///   - until: The earliest time of the next try.
    ///   - at: Now.
    ///   - fence: When given, nothing is written unless this fence still holds its lease.
    /// - Returns: The batch after the change.
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition` when it is not pending, `.leaseLost`, `.storage`.
    @discardableResult
    public func delayBatch(_ batchID: Int64, error: String, until: Date, at: Date, fence: LeaseFence? = nil)
        throws(AuditLogError) -> BatchRecord
    {
        try write { db in
            try Self.check(fence, in: db)
            _ = try Self.pendingBatch(batchID, in: db)
            try db.run(
                "UPDATE batches SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                [error, until.databaseMilliseconds, at.databaseMilliseconds, batchID])
            guard let updated = try Self.batch(id: batchID, in: db) else {
                throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
            }
            return updated
        }
    }

    /// Marks a pending batch expired (the stream no longer has its records) and appends an
    /// `expired` action for its message with the reason. Changes already stored from it stay.
    /// - Parameters:
    ///   - batchID: The batch.
    ///   - reason: Why the records are gone.
    ///   - at: Now.
    ///   - fence: When given, nothing is written unless this fence still holds its lease.
    /// - Returns: The batch after the change.
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition` when it is not pending, `.leaseLost`, `.storage`.
    @discardableResult
    public func expireBatch(_ batchID: Int64, reason: String, at: Date, fence: LeaseFence? = nil) throws(AuditLogError)
        -> BatchRecord
    {
        let now = at.databaseMilliseconds
        return try write { db in
            try Self.check(fence, in: db)
            let batch = try Self.pendingBatch(batchID, in: db)
            try db.run(
                "UPDATE batches SET status = 'expired', last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                [reason, now, batchID])
            try Self.appendAction(
                changeID: nil, messageID: batch.messageID,
                ActionEntry(action: .expired, reason: reason, outcome: "batch \(batchID) \(BatchStatus.expired.rawValue)"),
                at: now, in: db)
            guard let updated = try Self.batch(id: batchID, in: db) else {
                throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
            }
            return updated
        }
    }

    /// Marks a pending or expired batch skipped: an operator decided its records will not be
    /// read or repaired. Appends a `skipped` action for its message with the actor and reason.
    /// - Parameters:
    ///   - batchID: The batch.
    ///   - reason: Why (required).
    ///   - actor: Who.
    ///   - at: Now.
    /// - Returns: The batch after the change.
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition` when it is read or skipped already, `.storage`.
    @discardableResult
    public func skipBatch(_ batchID: Int64, reason: String, actor: String, at: Date) throws(AuditLogError) -> BatchRecord {
        try operatorMovesBatch(
            batchID, from: [.pending, .expired], to: .skipped, verb: "skipped",
            set: "status = 'skipped', next_attempt_at = NULL, updated_at = ?1",
            action: ActionEntry(action: .skipped, actor: actor, reason: reason, outcome: ""), at: at)
    }

    /// Reopens an expired batch: an operator found it was expired wrongly (a stream that was
    /// reachable after all), so its records are read again from where reading stopped. Appends a
    /// `retried` action for its message with the actor and reason.
    /// - Parameters:
    ///   - batchID: The batch.
    ///   - reason: Why (required).
    ///   - actor: Who.
    ///   - at: Now.
    /// - Returns: The batch after the change: pending, due at once, its attempts reset.
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition` when it is not expired, `.storage`.
    @discardableResult
    public func reopenBatch(_ batchID: Int64, reason: String, actor: String, at: Date) throws(AuditLogError) -> BatchRecord {
        try operatorMovesBatch(
            batchID, from: [.expired], to: .pending, verb: "reopened",
            set: "status = 'pending', attempts = 0, next_attempt_at = NULL, waiting_since = ?1, updated_at = ?1",
            action: ActionEntry(action: .retried, actor: actor, reason: reason, outcome: ""), at: at)
    }

    /// An operator's move of a batch from one of `allowed` to `target`: the row updated with
    /// `assignments` (`?1` is now), and `action` appended for its message with the outcome
    /// `batch ID <target> (was <status>): <verb>` (the form `verify` reads a batch's status from).
    private func operatorMovesBatch(
        _ batchID: Int64, from allowed: Set<BatchStatus>, to target: BatchStatus, verb: String, set assignments: String,
        action: ActionEntry, at: Date
    ) throws(AuditLogError) -> BatchRecord {
        let now = at.databaseMilliseconds
        return try write { db in
            guard let batch = try Self.batch(id: batchID, in: db) else {
                throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
            }
            guard allowed.contains(batch.status) else {
                let statuses = allowed.map(\.rawValue).sorted().joined(separator: " or ")
                throw AuditLogError(
                    code: .illegalTransition,
                    description: "batch \(batchID) is \(batch.status.rawValue): only a batch \(statuses) can be \(verb)")
            }
            try db.run("UPDATE batches SET \(assignments) WHERE id = ?2", [now, batchID])
            var entry = action
            entry.outcome = "batch \(batchID) \(target.rawValue) (was \(batch.status.rawValue)): \(verb)"
            try Self.appendAction(changeID: nil, messageID: batch.messageID, entry, at: now, in: db)
            guard let updated = try Self.batch(id: batchID, in: db) else {
                throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
            }
            return updated
        }
    }

    /// The batch, which must be pending.
    private static func pendingBatch(_ batchID: Int64, in db: AuditDatabase) throws -> BatchRecord {
        guard let batch = try batch(id: batchID, in: db) else {
            throw AuditLogError(code: .notFound, description: "batch \(batchID) does not exist")
        }
        guard batch.status == .pending else {
            throw AuditLogError(
                code: .illegalTransition,
                description:
                    "batch \(batchID) is \(batch.status.rawValue), not pending: another process moved it; nothing changed")
        }
        return batch
    }
}
