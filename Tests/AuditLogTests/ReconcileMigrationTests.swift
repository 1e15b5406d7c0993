import AuditLog
import Foundation
import SQLite
import StreamModel
import Testing

@Suite("Migration 0005: reconciled actions and reconcile runs")
struct ReconcileMigrationTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations")

    @Test("rebuilding actions keeps every row, id, hash and the AUTOINCREMENT mark; triggers and indexes come back")
    func rebuildKeepsTheChain() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("audit.sqlite3"))
        let before = try Migration.load(from: Self.folder).filter { $0.version < 5 }
        try db.migrate(before, checksum: { _ in "test" })
        try db.run(
            """
            INSERT INTO messages (message_id, body, format, received_at, receive_count) VALUES ('m1', '{}', 'B', 1, 1)
            """)
        for id in 1...3 {
            try db.run(
                """
                INSERT INTO actions (id, change_id, message_id, action, actor, reason, outcome, response, at, hash)
                VALUES (?, NULL, 'm1', 'ingested', 'system', NULL, 'stored', ?, ?, ?)
                """, [id, "{\"n\": \(id)}", id * 10, String(repeating: String(id), count: 64)])
        }
        // A chain whose tail was cut: the high-water mark is above the last row, and must stay so.
        try db.run("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'actions'")
        let rows = "SELECT id, change_id, message_id, action, actor, reason, outcome, response, at, hash FROM actions ORDER BY id"
        let original = try db.query(rows) { row in (0..<10).map { row.value(at: $0) } }

        let reconcile = try #require(try Migration.load(from: Self.folder).first { $0.version == 5 })
        try db.transaction { try db.execute(reconcile.sql) }

        #expect(try db.query(rows) { row in (0..<10).map { row.value(at: $0) } } == original)
        #expect(try db.queryOne("SELECT seq FROM sqlite_sequence WHERE name = 'actions'") { $0.column(0) as Int64 } == 5)
        #expect(try db.queryOne("SELECT count(*) FROM sqlite_sequence WHERE name LIKE 'actions%'") { $0.column(0) as Int } == 1)
        let objects = try db.query("SELECT name FROM sqlite_schema WHERE tbl_name = 'actions' AND type != 'table' ORDER BY name")
        {
            $0.column(0) as String
        }
        #expect(
            objects == [
                "actions_actor", "actions_at", "actions_change", "actions_kind", "actions_message", "actions_no_delete",
                "actions_no_update", "actions_reconciled_document",
            ])
        #expect(throws: SQLiteError.self) { try db.run("DELETE FROM actions WHERE id = 1") }
        #expect(throws: SQLiteError.self) { try db.run("UPDATE actions SET actor = 'x' WHERE id = 1") }
        try db.run(
            """
            INSERT INTO actions (change_id, message_id, action, actor, outcome, at, hash)
            VALUES (NULL, NULL, 'reconciled', 'alice', 'missing: wrote the table copy', 1, ?)
            """, [String(repeating: "a", count: 64)])
        #expect(try db.queryOne("SELECT max(id) FROM actions") { $0.column(0) as Int64 } == 6)
        #expect(throws: SQLiteError.self) {
            try db.run(
                "INSERT INTO actions (action, actor, outcome, at, hash) VALUES ('invented', 'x', 'y', 1, ?)",
                [String(repeating: "b", count: 64)])
        }
        #expect(try db.query("PRAGMA integrity_check") { $0.column(0) as String } == ["ok"])
    }

    @Test("a run records pages with their repairs' actions; the unfinished run is found for resume; verify holds")
    func runProgress() async throws {
        let directory = try TemporaryDirectory()
        let log = try AuditLog(path: directory.path("audit.sqlite3"))
        let run = try await log.startReconcileRun(mode: .repair, actor: "alice", reason: "incident", segments: 2, at: Date())
        #expect(run.positions == [.start, .start])

        var page = ReconcileProgress(segment: 1, position: .after(["PK": .string("ARTIST#9"), "SK": .string("METADATA")]))
        page.scanned = 30
        page.seen = (1...30).map(String.init)
        page.found = ["missing": (1...25).map(String.init), "differs": ["40"]]
        var repair = EngineCommit()
        repair.newIntents = [
            NewWriteIntent(
                documentID: "1", operation: .index, stampSequence: nil, stampAppliedAt: "2026-11-24T10:00:00.000Z",
                settlements: [], repair: RepairMark(runID: run.id, kind: "missing", actor: "alice", reason: "incident"))
        ]
        let intents = try await log.commit(repair, at: Date()).intentIDs
        // The repair of "1" is recorded (and counted) as it lands, before its page.
        page.found["missing"]?.removeFirst()
        var landed = EngineCommit()
        landed.completions = [
            IntentCompletion(
                intentID: intents[0], settlements: [],
                repairAction: ActionEntry(
                    action: .reconciled, actor: "alice", reason: "incident", outcome: "missing: wrote", response: "{}"))
        ]
        _ = try await log.commit(landed, at: Date())
        let after = try await log.recordReconcileProgress(runID: run.id, page, at: Date())
        #expect(after.positions == [.start, .after(["PK": .string("ARTIST#9"), "SK": .string("METADATA")])])
        #expect(after.scanned == 30 && after.repaired == 1)
        #expect(after.found["missing"] == 25 && after.found["differs"] == 1)
        #expect(after.samples["missing"]?.count == AuditLog.reconcileSampleLimit)

        #expect(
            try await log.unseenDocuments(runID: run.id, ["7", "x1", "30", "31"]) == ["x1", "31"],
            "the walk skips what the scan saw")
        #expect(try await log.unfinishedReconcileRun(mode: .repair)?.id == run.id)
        #expect(try await log.unfinishedReconcileRun(mode: .dryRun) == nil)
        let ended = try await log.endReconcileRun(runID: run.id, error: nil, at: Date())
        #expect(ended.status == .finished)
        #expect(try await log.unseenDocuments(runID: run.id, ["7"]) == ["7"], "a finished run's seen ids are gone")
        #expect(try await log.unfinishedReconcileRun(mode: .repair) == nil)
        #expect(try await log.reconcileRuns(limit: 5).map(\.id) == [run.id])

        let actions = try await log.listActions(ActionFilter(actions: [.reconciled]), after: nil, limit: 10).rows
        #expect(actions.count == 1 && actions[0].changeID == nil && actions[0].messageID == nil)
        let report = try await log.verify()
        #expect(report.firstBrokenActionID == nil && report.firstBrokenRow == nil)
    }
}
