import Foundation
import SQLite
import StreamModel

// Every query names the index it uses (INDEXED BY / NOT INDEXED), so the plan cannot drift
// to a table scan as the data grows; the EXPLAIN QUERY PLAN test checks each of them.

extension AuditLog {
    /// Due work: changes pending, or failed with `nextAttemptAt` at or before `now` (or unset),
    /// ordered by (document ID, sequence number, id); keyset-paged. The records come without
    /// their old images, which replay never reads, and only each document's newest due change
    /// comes with its new image (the one a replay writes; the others are superseded by it).
    /// - Parameters:
    ///   - now: The time to compare `nextAttemptAt` with.
    ///   - after: The previous page's ``Page/next`` (nil for the first page).
    ///   - limit: At most this many rows (at least 1).
    /// - Throws: ``AuditLogError``: `.invalidCursor`, `.storage`.
    public func dueChanges(now: Date, after: String?, limit: Int) throws(AuditLogError) -> Page<ChangeRecord> {
        // (document, sequence number's length, its digits, id): changes_due's order.
        var key: (String, Int, String, Int64) = ("", 0, "", 0)
        if let after {
            let cursor = try PageCursor(decoding: after, listing: "due", fieldCount: 3)
            guard let sequence = SequenceNumber(sortKey: cursor.fields[1]), let id = Int64(cursor.fields[2]) else {
                throw AuditLogError(code: .invalidCursor, description: "cursor \(after) is damaged")
            }
            key = (cursor.fields[0], sequence.digits.utf8.count, sequence.digits, id)
        }
        let limit = max(1, limit)
        let rows = try read { db in
            try db.query(
                """
                SELECT \(Rows.dueChangeColumns) FROM \(Rows.changesWithImages("changes INDEXED BY changes_due"))
                WHERE status IN ('pending', 'failed') AND (status = 'pending' OR ifnull(next_attempt_at, 0) <= ?1)
                  AND ifnull(document_id, '') >= ?2
                  AND (ifnull(document_id, ''), length(sequence_number), sequence_number, id) > (?2, ?3, ?4, ?5)
                ORDER BY ifnull(document_id, ''), length(sequence_number), sequence_number, id LIMIT ?6
                """,
                [now.databaseMilliseconds, key.0, key.1, key.2, key.3, limit + 1]
            ) { row in try Rows.change(from: row) }
        }
        return Self.page(rows, limit: limit) { last in
            PageCursor(listing: "due", fields: [last.documentID ?? "", last.sequenceNumber.sortKey, String(last.id)]).encoded
        }
    }

    /// The highest sequence number among this document's changes in status applied (nil if none).
    /// - Throws: ``AuditLogError``.
    public func latestAppliedSequence(documentID: String) throws(AuditLogError) -> SequenceNumber? {
        let digits = try read { db in
            try db.queryOne(
                """
                SELECT sequence_number FROM changes INDEXED BY changes_applied
                WHERE document_id = ? AND status = 'applied' ORDER BY sequence_key DESC LIMIT 1
                """, [documentID]
            ) { $0.column(0) as String }
        }
        guard let digits else { return nil }
        guard let sequenceNumber = SequenceNumber(digits) else {
            throw .corruptRow("document \(documentID): stored sequence number \(digits) is not a sequence number")
        }
        return sequenceNumber
    }

    /// The status of each change of `ids` that exists, in one query that reads no images: what
    /// the write engine checks to see whether another process moved a change since it read it.
    /// - Throws: ``AuditLogError``.
    public func changeStatuses(_ ids: [Int64]) throws(AuditLogError) -> [Int64: ChangeStatus] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var statuses: [Int64: ChangeStatus] = [:]
            try db.forEachRow(
                "SELECT id, status FROM changes WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
                [Self.jsonArray(ids.map(String.init))]
            ) { row in
                guard let status = ChangeStatus(rawValue: row.column(1)) else {
                    throw AuditLogError.corruptRow("unknown status of change \(row.column(0) as Int64)")
                }
                statuses[row.column(0)] = status
            }
            return statuses
        }
    }

    /// Changes matching `filter`, by id (ascending, or descending with `newestFirst`); keyset-paged,
    /// stable under concurrent inserts (every row that existed when the first page was read appears
    /// exactly once).
    /// - Parameters:
    ///   - filter: The constraints (combined with AND).
    ///   - after: The previous page's ``Page/next`` (nil for the first page).
    ///   - limit: At most this many rows (at least 1).
    ///   - newestFirst: Highest id first; its cursors belong to this order only.
    /// - Throws: ``AuditLogError``: `.invalidCursor`, `.storage`.
    public func listChanges(_ filter: ChangeFilter, after: String?, limit: Int, newestFirst: Bool = false)
        throws(AuditLogError) -> Page<ChangeRecord>
    {
        let limit = max(1, limit)
        let listing = IDRange.listing("changes", newestFirst: newestFirst)
        var range = try IDRange(cursor: after, listing: listing, descending: newestFirst)
        let statuses = Self.statusValues(filter)
        let rows: [ChangeRecord]? = try read { db in
            guard
                try range.narrow(
                    to: filter.since, filter.until, table: "changes", timeColumn: "created_at", index: "changes_created", in: db)
            else { return nil }
            var (conditions, bindings) = Self.conditions(of: filter, in: db)
            // The driving index: the most selective constraint, always ordered by id.
            let source: String
            if filter.ids != nil {
                source = "changes NOT INDEXED"
            } else if filter.documentID != nil {
                source = "changes INDEXED BY changes_document"
            } else if filter.errorGroup != nil {
                // One failure group: its changes by id, whatever their statuses (checked below).
                source = "changes INDEXED BY changes_error_group_ids"
            } else if filter.errorEquals != nil {
                // One failure group: its changes by id, whatever their statuses (checked below).
                source = "changes INDEXED BY changes_error_text"
            } else if !statuses.isEmpty {
                return try Self.mergedByStatus(
                    statuses, conditions: conditions, bindings: bindings, range: range, limit: limit, in: db)
            } else if filter.eventName == .remove {
                // REMOVE is rare: its own index. INSERT and MODIFY are most changes: by id, a page comes soon.
                source = "changes INDEXED BY changes_removed"
            } else if filter.errorPattern != nil {
                source = "changes INDEXED BY changes_with_error"
            } else {
                source = "changes NOT INDEXED"
            }
            if !statuses.isEmpty {
                conditions.append("status IN (SELECT value FROM json_each(?))")
                bindings.append(Self.jsonArray(statuses))
            }
            return try Self.changes(from: source, conditions: conditions, bindings: bindings, range: range, limit: limit, in: db)
        }
        guard let rows else { return Page(rows: [], next: nil) }
        return Self.page(rows, limit: limit) { last in range.cursor(after: last.id, listing: listing) }
    }

    /// One ordered stream per status (index `changes_status`), merged by id.
    private static func mergedByStatus(
        _ statuses: [String], conditions: [String], bindings: [any SQLBindable], range: IDRange, limit: Int, in db: AuditDatabase
    ) throws -> [ChangeRecord] {
        var merged: [ChangeRecord] = []
        for status in statuses {
            merged += try changes(
                from: "changes INDEXED BY changes_status", conditions: ["status = ?"] + conditions,
                bindings: [status] + bindings, range: range, limit: limit, in: db)
        }
        return Array(merged.sorted { range.descending ? $0.id > $1.id : $0.id < $1.id }.prefix(limit + 1))
    }

    private static func changes(
        from source: String, conditions: [String], bindings: [any SQLBindable], range: IDRange, limit: Int, in db: AuditDatabase
    ) throws -> [ChangeRecord] {
        let (rangeConditions, rangeBindings) = range.conditions
        let allConditions = conditions + rangeConditions
        return try db.query(
            "SELECT \(Rows.changeColumns) FROM \(Rows.changesWithImages(source)) WHERE \(allConditions.joined(separator: " AND ")) ORDER BY \(range.order) LIMIT ?",
            bindings + rangeBindings + [limit + 1]
        ) { row in try Rows.change(from: row) }
    }

    /// The actions of one change, by id.
    /// - Throws: ``AuditLogError``.
    public func actions(forChange id: Int64) throws(AuditLogError) -> [ActionRecord] {
        try read { db in try Self.actions(forChange: id, in: db) }
    }

    private static func actions(forChange id: Int64, in db: AuditDatabase) throws -> [ActionRecord] {
        try db.query("SELECT \(Rows.actionColumns) FROM actions INDEXED BY actions_change WHERE change_id = ? ORDER BY id", [id])
        { row in
            try Rows.action(from: row)
        }
    }

    /// Everything that happened to one document: its changes in sequence-number order, and
    /// the actions on them (and the reconcile repairs of the document) by id. Read from one snapshot.
    /// - Parameter documentID: The search document's id (e.g. `42` for `ARTIST#42`).
    /// - Throws: ``AuditLogError``.
    public func history(documentID: String) throws(AuditLogError) -> (changes: [ChangeRecord], actions: [ActionRecord]) {
        try read { db in
            // A document's changes come by id (the index that lists them) and are put in sequence order here.
            let changes = try db.query(
                """
                SELECT \(Rows.changeColumns) FROM \(Rows.changesWithImages("changes INDEXED BY changes_document"))
                WHERE document_id = ? ORDER BY id
                """, [documentID]
            ) { row in try Rows.change(from: row) }
            .sorted { ($0.sequenceNumber, $0.id) < ($1.sequenceNumber, $1.id) }
            var actions: [ActionRecord] = []
            for change in changes {
                actions += try Self.actions(forChange: change.id, in: db)
            }
            // Reconcile repairs belong to no change: found by the document their response names.
            actions += try db.query(
                """
                SELECT \(Rows.actionColumns) FROM actions INDEXED BY actions_reconciled_document
                WHERE action = 'reconciled' AND \(db.jsonText("response", member: "documentId")) = ? ORDER BY id
                """, [documentID]
            ) { row in try Rows.action(from: row) }
            return (changes, actions.sorted { $0.id < $1.id })
        }
    }

    /// Actions matching `filter`, by id (ascending, or descending with `newestFirst`); keyset-paged
    /// like ``listChanges(_:after:limit:newestFirst:)``.
    /// - Throws: ``AuditLogError``: `.invalidCursor`, `.storage`.
    public func listActions(_ filter: ActionFilter, after: String?, limit: Int, newestFirst: Bool = false)
        throws(AuditLogError) -> Page<ActionRecord>
    {
        let limit = max(1, limit)
        let listing = IDRange.listing("actions", newestFirst: newestFirst)
        var range = try IDRange(cursor: after, listing: listing, descending: newestFirst)
        let kinds = Self.kindValues(filter)
        let rows: [ActionRecord]? = try read { db in
            guard
                try range.narrow(to: filter.since, filter.until, table: "actions", timeColumn: "at", index: "actions_at", in: db)
            else { return nil }
            let (conditions, bindings) = Self.conditions(of: filter)
            let (rangeConditions, rangeBindings) = range.conditions
            func select(_ source: String, _ extraConditions: [String], _ extraBindings: [any SQLBindable]) throws
                -> [ActionRecord]
            {
                let all = extraConditions + conditions + rangeConditions
                return try db.query(
                    "SELECT \(Rows.actionColumns) FROM \(source) WHERE \(all.joined(separator: " AND ")) ORDER BY \(range.order) LIMIT ?",
                    extraBindings + bindings + rangeBindings + [limit + 1]
                ) { row in try Rows.action(from: row) }
            }
            if filter.actor != nil {
                guard !kinds.isEmpty else { return try select("actions INDEXED BY actions_actor", [], []) }
                return try select(
                    "actions INDEXED BY actions_actor", ["action IN (SELECT value FROM json_each(?))"], [Self.jsonArray(kinds)])
            }
            guard !kinds.isEmpty else { return try select("actions NOT INDEXED", [], []) }
            var merged: [ActionRecord] = []
            for kind in kinds {
                merged += try select("actions INDEXED BY actions_kind", ["action = ?"], [kind])
            }
            return Array(merged.sorted { range.descending ? $0.id > $1.id : $0.id < $1.id }.prefix(limit + 1))
        }
        guard let rows else { return Page(rows: [], next: nil) }
        return Self.page(rows, limit: limit) { last in range.cursor(after: last.id, listing: listing) }
    }

    /// Counts by status (every status, zeros included), messages, the oldest open change, the
    /// last run, batches by status with the oldest waiting one, and the run lease row.
    /// - Throws: ``AuditLogError``.
    public func stats() throws(AuditLogError) -> AuditStats {
        try read { db in
            var counts = Dictionary(uniqueKeysWithValues: ChangeStatus.allCases.map { ($0, 0) })
            try db.forEachRow("SELECT status, count(*) FROM changes INDEXED BY changes_status GROUP BY status") { row in
                guard let status = ChangeStatus(rawValue: row.column(0)) else {
                    throw AuditLogError.corruptRow("unknown status in counts")
                }
                counts[status] = row.column(1)
            }
            let total = try db.queryOne("SELECT count(*) FROM messages") { $0.column(0) as Int } ?? 0
            let quarantined =
                try db.queryOne(
                    "SELECT count(*) FROM messages INDEXED BY messages_quarantined WHERE \(Self.waitingInQuarantine)"
                ) { $0.column(0) as Int } ?? 0
            let oldest =
                try db.queryOne(
                    "SELECT min(created_at) FROM changes INDEXED BY changes_open_created WHERE status IN ('pending', 'failed')"
                ) { $0.column(0) as Int64? } ?? nil
            let lastRun = try db.queryOne("SELECT max(finished_at) FROM runs") { $0.column(0) as Int64? } ?? nil
            var batches = Dictionary(uniqueKeysWithValues: BatchStatus.allCases.map { ($0, 0) })
            try db.forEachRow("SELECT status, count(*) FROM batches INDEXED BY batches_status GROUP BY status") { row in
                // 'resolved' is reserved by the schema for reconcile's resolutions; not counted yet.
                if let status = BatchStatus(rawValue: row.column(0)) { batches[status] = row.column(1) }
            }
            let oldestBatch =
                try db.queryOne(
                    "SELECT min(waiting_since) FROM batches INDEXED BY batches_waiting WHERE status = 'pending'"
                ) { $0.column(0) as Int64? } ?? nil
            return AuditStats(
                changes: counts, messagesTotal: total, messagesQuarantined: quarantined,
                oldestPendingCreatedAt: oldest.map(Date.init(databaseMilliseconds:)),
                lastRunAt: lastRun.map(Date.init(databaseMilliseconds:)), batches: batches,
                oldestWaitingBatchSince: oldestBatch.map(Date.init(databaseMilliseconds:)),
                runLease: try Self.leaseState(name: Self.runLeaseName, in: db),
                replayPause: try db.queryOne("SELECT reason, since, checked_at FROM replay_pause WHERE id = 1") { row in
                    ReplayPause(
                        reason: row.column(0), since: Date(databaseMilliseconds: row.column(1) as Int64),
                        checkedAt: Date(databaseMilliseconds: row.column(2) as Int64))
                },
                lastReconcile: try db.queryOne("SELECT max(id) FROM reconcile_runs") { $0.column(0) as Int64? }?
                    .flatMap { try Self.reconcileRun(id: $0, in: db) },
                streamProblems: try Self.streamProblems(in: db),
                mostUrgentBatchLastRecordAt: try db.queryOne(
                    "SELECT min(last_record_at) FROM batches INDEXED BY batches_due_by_age WHERE status = 'pending'"
                ) { $0.column(0) as Int64? }?.map(Date.init(databaseMilliseconds:)))
        }
    }

    /// A stored message (body, correlation, error, quarantine reason…), nil when unknown.
    /// - Throws: ``AuditLogError``.
    public func message(id: String) throws(AuditLogError) -> StoredMessage? {
        try read { db in
            try db.queryOne("SELECT \(Rows.messageColumns) FROM messages WHERE message_id = ?", [id]) { row in
                try Rows.message(from: row)
            }
        }
    }

    /// Records that a run finished (``AuditStats/lastRunAt``).
    /// - Throws: ``AuditLogError``.
    public func recordRun(finishedAt: Date) throws(AuditLogError) {
        try write { db in
            try db.run("INSERT INTO runs (finished_at) VALUES (?)", [finishedAt.databaseMilliseconds])
        }
    }

    /// Splits `limit + 1` fetched rows into a page and its next cursor.
    static func page<Row>(_ rows: [Row], limit: Int, cursor: (Row) -> String) -> Page<Row> {
        guard rows.count > limit else { return Page(rows: rows, next: nil) }
        let pageRows = Array(rows.prefix(limit))
        return Page(rows: pageRows, next: pageRows.last.map(cursor))
    }

    static func jsonArray(_ texts: [String]) -> String {
        JSONValue.array(texts.map(JSONValue.string)).serialized
    }
}

/// The id window of a keyset listing: ids in (`after`, `upperBound`], and (for a time filter)
/// within the ids of rows in the time range, computed once on the first page and carried in the
/// cursor. Ascending pages move `after` up; descending ones move `upperBound` down.
struct IDRange {
    var after: Int64 = 0
    var upperBound: Int64?
    /// Highest id first.
    let descending: Bool

    /// The cursor listing name of `base` in one order: a cursor of one order is refused by the other.
    static func listing(_ base: String, newestFirst: Bool) -> String {
        newestFirst ? base + " newest first" : base
    }

    init(cursor: String?, listing: String, descending: Bool) throws(AuditLogError) {
        self.descending = descending
        guard let cursor else { return }
        let decoded = try PageCursor(decoding: cursor, listing: listing, fieldCount: 2)
        guard let after = Int64(decoded.fields[0]) else {
            throw AuditLogError(code: .invalidCursor, description: "cursor \(cursor) is damaged")
        }
        self.after = after
        upperBound = decoded.fields[1].isEmpty ? nil : Int64(decoded.fields[1])
    }

    /// `id` or `id DESC`.
    var order: String { descending ? "id DESC" : "id" }

    /// On the first page, narrows the window to the ids of rows stored in [since, until).
    /// Times usually grow with ids, so the window is then exactly the rows wanted; when they
    /// do not, the time condition still filters each row, so the result stays correct.
    /// - Returns: false when no row is in the time range.
    mutating func narrow(to since: Date?, _ until: Date?, table: String, timeColumn: String, index: String, in db: AuditDatabase)
        throws -> Bool
    {
        guard since != nil || until != nil, after == 0, upperBound == nil else { return true }
        var conditions: [String] = []
        var bindings: [any SQLBindable] = []
        if let since {
            conditions.append("\(timeColumn) >= ?")
            bindings.append(since.databaseMilliseconds)
        }
        if let until {
            conditions.append("\(timeColumn) < ?")
            bindings.append(until.databaseMilliseconds)
        }
        let bounds = try db.queryOne(
            "SELECT min(id), max(id) FROM \(table) INDEXED BY \(index) WHERE \(conditions.joined(separator: " AND "))", bindings
        ) { row in (row.column(0) as Int64?, row.column(1) as Int64?) }
        guard let bounds, let low = bounds.0, let high = bounds.1 else { return false }
        after = low - 1
        upperBound = high
        return true
    }

    var conditions: ([String], [any SQLBindable]) {
        guard let upperBound else { return (["id > ?"], [after]) }
        return (["id > ?", "id <= ?"], [after, upperBound])
    }

    /// The cursor of the page after the one whose last row is `id`.
    func cursor(after id: Int64, listing: String) -> String {
        if descending { return PageCursor(listing: listing, fields: [String(after), String(id - 1)]).encoded }
        return PageCursor(listing: listing, fields: [String(id), upperBound.map(String.init) ?? ""]).encoded
    }
}
