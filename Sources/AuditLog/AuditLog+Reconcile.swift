import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// The most sample ids a run keeps per kind.
    public static let reconcileSampleLimit = 20

    /// The newest sequence number the log knows for each document (any change of it).
    /// - Parameter documentIDs: The documents.
    /// - Returns: Only the documents the log has changes for.
    /// - Throws: ``AuditLogError``.
    public func newestKnownSequences(_ documentIDs: [String]) throws(AuditLogError) -> [String: SequenceNumber] {
        let ids = Array(Set(documentIDs))
        guard !ids.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        var found: [String: SequenceNumber] = [:]
        try read { db in
            try db.forEachRow(
                """
                SELECT document_id, max(sequence_key) FROM changes INDEXED BY changes_document
                WHERE document_id IN (\(marks)) GROUP BY document_id
                """, ids
            ) { row in
                let documentID = row.column(0) as String
                guard let sequence = SequenceNumber(sortKey: row.column(1) as String) else {
                    throw AuditLogError.corruptRow("document \(documentID): stored sequence key is not a sequence")
                }
                found[documentID] = sequence
            }
        }
        return found
    }

    /// Starts a reconcile run.
    /// - Parameters:
    ///   - mode: Dry run or repair.
    ///   - actor: Who.
    ///   - reason: Why.
    ///   - segments: Parallel scan segments.
    ///   - at: Now.
    /// - Returns: The new run.
    /// - Throws: ``AuditLogError``.
    public func startReconcileRun(mode: ReconcileRun.Mode, actor: String, reason: String?, segments: Int, at: Date)
        throws(AuditLogError) -> ReconcileRun
    {
        let now = at.databaseMilliseconds
        let positions = JSONValue.object(
            Dictionary(uniqueKeysWithValues: (0..<max(1, segments)).map { (String($0), JSONValue.null) })
        ).serialized
        return try write { db in
            let id =
                try db.queryOne(
                    """
                    INSERT INTO reconcile_runs (mode, status, actor, reason, segments, positions_json, started_at, updated_at)
                    VALUES (?, 'running', ?, ?, ?, ?, ?, ?) RETURNING id
                    """, [mode.rawValue, actor, reason, max(1, segments), positions, now, now]
                ) { $0.column(0) as Int64 } ?? 0
            // Older runs of the mode can no longer be resumed: what their scans saw goes.
            try db.run(
                """
                DELETE FROM reconcile_seen WHERE run_id IN (
                    SELECT id FROM reconcile_runs INDEXED BY reconcile_runs_status WHERE mode = ? AND id < ?)
                """, [mode.rawValue, id])
            return try Self.reconcileRun(id: id, in: db)!
        }
    }

    /// The newest run of `mode` that did not finish (for `--resume`), if any.
    /// - Throws: ``AuditLogError``.
    public func unfinishedReconcileRun(mode: ReconcileRun.Mode) throws(AuditLogError) -> ReconcileRun? {
        try read { db in
            let id =
                try db.queryOne(
                    """
                    SELECT max(id) FROM reconcile_runs INDEXED BY reconcile_runs_status
                    WHERE mode = ? AND status IN ('running', 'failed')
                    """, [mode.rawValue]
                ) { $0.column(0) as Int64? } ?? nil
            return try id.flatMap { try Self.reconcileRun(id: $0, in: db) }
        }
    }

    /// The newest reconcile runs, newest first.
    /// - Throws: ``AuditLogError``.
    public func reconcileRuns(limit: Int) throws(AuditLogError) -> [ReconcileRun] {
        try read { db in
            let ids = try db.query("SELECT id FROM reconcile_runs ORDER BY id DESC LIMIT ?", [max(1, limit)]) {
                $0.column(0) as Int64
            }
            return try ids.compactMap { try Self.reconcileRun(id: $0, in: db) }
        }
    }

    /// Records one page of a run: its counts, samples and position, in one transaction — so a
    /// resumed run neither loses nor repeats a page. A repair that landed is not in the page:
    /// the write engine counted it (found and repaired) when it recorded the repair.
    /// - Returns: The run as it stands after the page.
    /// - Throws: ``AuditLogError``: `.notFound`; `.storage`.
    @discardableResult
    public func recordReconcileProgress(runID: Int64, _ progress: ReconcileProgress, at: Date) throws(AuditLogError)
        -> ReconcileRun
    {
        let now = at.databaseMilliseconds
        return try write { db in
            guard var run = try Self.reconcileRun(id: runID, in: db) else {
                throw AuditLogError(code: .notFound, description: "reconcile run \(runID) does not exist")
            }
            if let segment = progress.segment, let position = progress.position, run.positions.indices.contains(segment) {
                run.positions[segment] = position
            }
            if progress.segment == nil {
                run.walkAfter = progress.walkAfter ?? run.walkAfter
                run.walkDone = progress.walkDone
            }
            for id in progress.seen {
                try db.run("INSERT INTO reconcile_seen (run_id, document_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [runID, id])
            }
            for (kind, ids) in progress.found {
                run.found[kind, default: 0] += ids.count
                var samples = run.samples[kind] ?? []
                for id in ids where samples.count < Self.reconcileSampleLimit { samples.append(id) }
                run.samples[kind] = samples
            }
            try db.run(
                """
                UPDATE reconcile_runs SET positions_json = ?, walk_after = ?, walk_done = ?, scanned = scanned + ?,
                    indexed = indexed + ?, missing = ?, stale = ?, orphaned = ?, differs = ?,
                    conflicts = conflicts + ?, failed = failed + ?, samples_json = ?, updated_at = ?
                WHERE id = ?
                """,
                [
                    Self.positionsJSON(run.positions), run.walkAfter, run.walkDone, progress.scanned, progress.indexed,
                    run.found["missing"] ?? 0, run.found["stale"] ?? 0, run.found["orphaned"] ?? 0,
                    run.found["differs"] ?? 0, progress.conflicts, progress.failed,
                    JSONValue.object(run.samples.mapValues { .array($0.map(JSONValue.string)) }).serialized, now, runID,
                ])
            return try Self.reconcileRun(id: runID, in: db)!
        }
    }

    /// Of `documentIDs`, those the run's scan has not seen (recorded with its pages), in order.
    /// - Throws: ``AuditLogError``.
    public func unseenDocuments(runID: Int64, _ documentIDs: [String]) throws(AuditLogError) -> [String] {
        guard !documentIDs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: documentIDs.count).joined(separator: ", ")
        var seen: Set<String> = []
        try read { db in
            try db.forEachRow(
                "SELECT document_id FROM reconcile_seen WHERE run_id = ? AND document_id IN (\(marks))",
                [runID as any SQLBindable] + documentIDs.map { $0 as any SQLBindable }
            ) { seen.insert($0.column(0) as String) }
        }
        return documentIDs.filter { !seen.contains($0) }
    }

    /// Marks a run finished, or failed with `error` (kept for `--resume`).
    /// - Returns: The run as it ends.
    /// - Throws: ``AuditLogError``.
    @discardableResult
    public func endReconcileRun(runID: Int64, error: String?, at: Date) throws(AuditLogError) -> ReconcileRun {
        let now = at.databaseMilliseconds
        return try write { db in
            try db.run(
                """
                UPDATE reconcile_runs SET status = ?, last_error = ?, updated_at = ?, finished_at = ? WHERE id = ?
                """, [error == nil ? "finished" : "failed", error, now, error == nil ? now : nil, runID])
            if error == nil { try db.run("DELETE FROM reconcile_seen WHERE run_id = ?", [runID]) }
            guard let run = try Self.reconcileRun(id: runID, in: db) else {
                throw AuditLogError(code: .notFound, description: "reconcile run \(runID) does not exist")
            }
            return run
        }
    }

    /// Marks a failed run running again (`--resume`).
    /// - Throws: ``AuditLogError``.
    public func resumeReconcileRun(runID: Int64, at: Date) throws(AuditLogError) -> ReconcileRun {
        try write { db in
            try db.run(
                "UPDATE reconcile_runs SET status = 'running', last_error = NULL, updated_at = ? WHERE id = ?",
                [at.databaseMilliseconds, runID])
            guard let run = try Self.reconcileRun(id: runID, in: db) else {
                throw AuditLogError(code: .notFound, description: "reconcile run \(runID) does not exist")
            }
            return run
        }
    }

    /// Resolves the batches that expired before `run` started: a finished repairing run checked
    /// every artist of the table against search after they expired, so what their lost records
    /// changed is in search now. Each gets a `reconciled` action on its message naming the run.
    /// - Parameters:
    ///   - run: A finished repairing reconcile run.
    ///   - actor: Who.
    ///   - reason: Why.
    ///   - at: Now.
    /// - Returns: The ids of the batches resolved.
    /// - Throws: ``AuditLogError`` `.illegalTransition` when the run is not a finished repair.
    public func resolveExpiredBatches(coveredBy run: ReconcileRun, actor: String, reason: String?, at: Date)
        throws(AuditLogError) -> [Int64]
    {
        guard run.mode == .repair, run.status == .finished else {
            throw AuditLogError(
                code: .illegalTransition,
                description:
                    "reconcile run \(run.id) is a \(run.mode.rawValue) run, \(run.status.rawValue): only a finished repair resolves expired batches"
            )
        }
        let now = at.databaseMilliseconds
        return try write { db in
            let batches = try db.query(
                """
                SELECT id, message_id FROM batches INDEXED BY batches_status
                WHERE status = 'expired' AND updated_at <= ? ORDER BY id
                """, [run.startedAt.databaseMilliseconds]
            ) { (id: $0.column(0) as Int64, messageID: $0.column(1) as String) }
            for batch in batches {
                try db.run(
                    "UPDATE batches SET status = 'resolved', updated_at = ? WHERE id = ? AND status = 'expired'",
                    [now, batch.id])
                let response = JSONValue.object([
                    "reconcileRun": .number(String(run.id)), "batchId": .number(String(batch.id)),
                ]).serialized
                try Self.appendAction(
                    changeID: nil, messageID: batch.messageID,
                    ActionEntry(
                        action: .reconciled, actor: actor, reason: reason,
                        outcome:
                            "batch \(batch.id) resolved: reconcile run \(run.id) repaired search from the table after it expired",
                        response: response), at: now, in: db)
            }
            return batches.map(\.id)
        }
    }

    static func positionsJSON(_ positions: [ReconcileRun.SegmentPosition]) -> String {
        var members: [String: JSONValue] = [:]
        for (segment, position) in positions.enumerated() {
            switch position {
            case .start: members[String(segment)] = .null
            case .after(let key): members[String(segment)] = key.dynamoJSON
            case .done: members[String(segment)] = .string("done")
            }
        }
        return JSONValue.object(members).serialized
    }

    static func reconcileRun(id: Int64, in db: AuditDatabase) throws -> ReconcileRun? {
        try db.queryOne(
            """
            SELECT id, mode, status, actor, reason, segments, positions_json, walk_after, walk_done, scanned, indexed,
                missing, stale, orphaned, differs, repaired, conflicts, failed, samples_json, last_error, started_at,
                updated_at, finished_at
            FROM reconcile_runs WHERE id = ?
            """, [id]
        ) { row in
            guard let mode = ReconcileRun.Mode(rawValue: row.column(1)),
                let status = ReconcileRun.Status(rawValue: row.column(2))
            else { throw AuditLogError.corruptRow("reconcile run \(id): mode or status") }
            let segments = row.column(5) as Int
            let positionsJSON = try JSONValue(parsing: row.column(6) as String)
            var positions: [ReconcileRun.SegmentPosition] = []
            for segment in 0..<segments {
                switch positionsJSON[String(segment)] {
                case .string("done")?: positions.append(.done)
                case let key? where key != .null: positions.append(.after(try Item(dynamoJSON: key)))
                default: positions.append(.start)
                }
            }
            var samples: [String: [String]] = [:]
            if case .object(let members) = try JSONValue(parsing: row.column(18) as String) {
                for (kind, ids) in members { samples[kind] = ids.arrayValue?.compactMap(\.stringValue) ?? [] }
            }
            return ReconcileRun(
                id: row.column(0), mode: mode, status: status, actor: row.column(3), reason: row.column(4),
                segments: segments, positions: positions, walkAfter: row.column(7), walkDone: row.column(8),
                scanned: row.column(9), indexed: row.column(10),
                found: [
                    "missing": row.column(11), "stale": row.column(12), "orphaned": row.column(13),
                    "differs": row.column(14),
                ],
                repaired: row.column(15), conflicts: row.column(16), failed: row.column(17), samples: samples,
                lastError: row.column(19), startedAt: Date(databaseMilliseconds: row.column(20)),
                updatedAt: Date(databaseMilliseconds: row.column(21)),
                finishedAt: (row.column(22) as Int64?).map { Date(databaseMilliseconds: $0) })
        }
    }
}
