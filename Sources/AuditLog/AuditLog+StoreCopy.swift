import Foundation
import SQLite

/// What ``AuditLog/copy(to:pageSize:progress:)`` did.
public struct StoreCopyReport: Sendable, Hashable {
    /// Rows copied by this call, per table (rows a previous, interrupted copy made are not counted).
    public var copied: [String: Int] = [:]
    /// Rows already in the target, per table, when this call began (a resumed copy's head start).
    public var alreadyThere: [String: Int] = [:]
}

extension AuditLog {
    /// One table of the store as the copy moves it.
    struct CopiedTable {
        /// How a resumed copy finds where it stopped in a table.
        enum Resume {
            /// After the largest value of this integer key the target holds (ids are the same on both ends).
            case integerKey(String)
            /// After the source row of the message the target received last (its `rowid` on both ends).
            case messageArrival
            /// Copied whole again (a small table, or one keyed by text): rows there are kept.
            case fromStart([String])
        }

        var name: String
        var resume: Resume

        /// The source's order, the columns a page is continued after.
        var order: [String] {
            switch resume {
            case .integerKey(let column): [column]
            case .messageArrival: ["rowid"]
            case .fromStart(let key): key
            }
        }
    }

    /// Every table of the store, parents before children (foreign keys hold page by page), but
    /// `leases`: the run lease belongs to the store's own writers (the copy itself holds the
    /// source's while it runs), and a new shared store's lease is free to the first worker.
    static let copiedTables: [CopiedTable] = [
        .init(name: "messages", resume: .messageArrival),
        .init(name: "batches", resume: .integerKey("id")),
        .init(name: "changes", resume: .integerKey("id")),
        .init(name: "change_images", resume: .integerKey("change_id")),
        .init(name: "actions", resume: .integerKey("id")),
        .init(name: "chain_anchors", resume: .integerKey("first_action_id")),
        .init(name: "runs", resume: .integerKey("id")),
        .init(name: "replay_pause", resume: .integerKey("id")),
        .init(name: "reconcile_runs", resume: .integerKey("id")),
        .init(name: "write_intents", resume: .integerKey("id")),
        .init(name: "reconcile_seen", resume: .fromStart(["run_id", "document_id"])),
        .init(name: "stream_problems", resume: .fromStart(["stream_arn"])),
        .init(name: "idempotency_keys", resume: .fromStart(["actor", "idempotency_key"])),
    ]

    /// Copies this SQLite store into `target`, an empty (or partly copied) PostgreSQL store,
    /// table by table, a page per target transaction, and resumes where an interrupted copy
    /// stopped: each table continues after the last row the target holds (the largest id, or
    /// the message received last); the small tables keyed by text are copied whole again.
    ///
    /// Rows keep their ids, and actions their hashes, so the chain is the same chain; the
    /// target's id sequences are moved past the copied ids at the end. The caller verifies
    /// both chains (``verify(expectedHead:)``) and compares their heads.
    /// - Parameters:
    ///   - target: The PostgreSQL store, opened without a key (the key's anchor is copied).
    ///   - pageSize: Rows per page (memory holds one page).
    ///   - progress: Called after each page with the table and the rows this call copied of it.
    /// - Returns: Rows copied and found, per table.
    /// - Throws: ``AuditLogError`` `.storage` when either store fails; `.corrupt` when the
    ///   target already holds another store's trail (its first action is not this one's).
    public func copy(
        to target: AuditLog, pageSize: Int = 1000, progress: (@Sendable (String, Int) -> Void)? = nil
    ) async throws(AuditLogError) -> StoreCopyReport {
        guard !isShared, target.isShared else {
            throw AuditLogError(code: .storage, description: "a store is copied from a SQLite file into a PostgreSQL database")
        }
        let firstHash = try firstActionHash()
        let targetFirstHash = try await target.firstActionHash()
        if let targetFirstHash, targetFirstHash != firstHash {
            throw AuditLogError(
                code: .corrupt,
                description:
                    "the target already holds another audit trail (its first action's hash is not this store's); copy into an empty database"
            )
        }
        var report = StoreCopyReport()
        for table in Self.copiedTables {
            let (existing, last) = try await target.copyPosition(table)
            report.alreadyThere[table.name] = existing
            var after = try sourcePosition(table, targetLast: last)
            var copied = 0
            while true {
                let (columns, rows, position) = try page(of: table, after: after, limit: max(1, pageSize))
                guard !rows.isEmpty else { break }
                let inserted = try await target.insertCopied(table, columns: columns, rows: rows)
                copied += inserted
                after = position
                progress?(table.name, copied)
            }
            report.copied[table.name] = copied
        }
        try await target.advanceIdentities()
        return report
    }

    /// The hash of the first action (nil when there is none).
    func firstActionHash() throws(AuditLogError) -> String? {
        try read { db in try db.queryOne("SELECT hash FROM actions ORDER BY id LIMIT 1") { $0.column(0) as String } }
    }

    /// How many rows `table` holds, and what identifies the last row a copy put there: its
    /// integer key, or for messages the id of the one received last (nil when none applies).
    func copyPosition(_ table: CopiedTable) throws(AuditLogError) -> (Int, SQLValue?) {
        try read { db in
            let count = try db.queryOne("SELECT count(*) FROM \(table.name)") { $0.column(0) as Int } ?? 0
            switch table.resume {
            case .integerKey(let column):
                return (count, try db.queryOne("SELECT max(\(column)) FROM \(table.name)") { $0.value(at: 0) })
            case .messageArrival:
                return (count, try db.queryOne("SELECT message_id FROM messages ORDER BY rowid DESC LIMIT 1") { $0.value(at: 0) })
            case .fromStart:
                return (count, nil)
            }
        }
    }

    /// Where this (source) store's copy of `table` continues, from the target's ``copyPosition(_:)``.
    func sourcePosition(_ table: CopiedTable, targetLast: SQLValue?) throws(AuditLogError) -> [SQLValue]? {
        guard let targetLast, targetLast != .null else { return nil }
        switch table.resume {
        case .integerKey: return [targetLast]
        case .messageArrival:
            return try read { db in
                try db.queryOne("SELECT rowid FROM messages WHERE message_id = ?", [targetLast]) { [$0.value(at: 0)] }
            }
        case .fromStart: return nil
        }
    }

    /// The rows of `table` after `after` in the source's order, with their column names and
    /// the position the next page continues after.
    func page(of table: CopiedTable, after: [SQLValue]?, limit: Int) throws(AuditLogError)
        -> (columns: [String], rows: [[SQLValue]], next: [SQLValue]?)
    {
        try read { db in
            let columns = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table.name]) {
                $0.column(0) as String
            }
            let order = table.order.joined(separator: ", ")
            let marks = Array(repeating: "?", count: table.order.count).joined(separator: ", ")
            let condition = after == nil ? "" : "WHERE (\(order)) > (\(marks))"
            var next: [SQLValue]?
            let rows = try db.query(
                "SELECT \(columns.joined(separator: ", ")), \(order) FROM \(table.name) \(condition) ORDER BY \(order) LIMIT ?",
                (after ?? []) + [SQLValue.integer(Int64(limit))]
            ) { row in
                next = (columns.count..<columns.count + table.order.count).map { row.value(at: $0) }
                return columns.indices.map { row.value(at: $0) }
            }
            return (columns, rows, next)
        }
    }

    /// Inserts copied rows as they are (ids and hashes included) in one transaction; rows
    /// already there are left alone.
    /// - Returns: How many rows were inserted.
    func insertCopied(_ table: CopiedTable, columns: [String], rows: [[SQLValue]]) throws(AuditLogError) -> Int {
        let marks = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        return try write { db in
            var inserted = 0
            // Bounded by PostgreSQL's 65,535 parameters a statement.
            let perStatement = max(1, 60_000 / max(1, columns.count))
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let chunk = rows[start..<min(start + perStatement, rows.count)]
                inserted += try db.run(
                    """
                    INSERT INTO \(table.name) (\(columns.joined(separator: ", ")))
                    VALUES \(Array(repeating: marks, count: chunk.count).joined(separator: ", ")) ON CONFLICT DO NOTHING
                    """, chunk.flatMap { $0 })
            }
            if table.name == "actions" {
                // The head moves with the copied actions, as each appending transaction moves it.
                try db.run("UPDATE chain_head SET last_action_id = (SELECT coalesce(max(id), 0) FROM actions) WHERE id = 1")
            }
            return inserted
        }
    }

    /// Moves every identity sequence past the largest id its table holds, so new rows do not
    /// collide with copied ones (PostgreSQL).
    func advanceIdentities() throws(AuditLogError) {
        try write { db in
            for table in Self.copiedTables where table.order == ["id"] && table.name != "replay_pause" {
                _ = try db.queryOne(
                    """
                    SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table.name)
                    """
                ) { $0.column(0) as Int64 }
            }
        }
    }
}
