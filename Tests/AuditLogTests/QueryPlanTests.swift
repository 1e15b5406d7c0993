import Foundation
import SQLite
import StreamModel
import Synchronization
import TestSupport
import Testing

@testable import AuditLog

@Suite("Query plans")
struct QueryPlanTests {
    /// Statements seen by the trace, shared with the audit log's thread.
    final class Statements: Sendable {
        private let seen = Mutex<Set<String>>([])

        func insert(_ sql: String) { _ = seen.withLock { $0.insert(sql) } }

        var all: Set<String> { seen.withLock { $0 } }
    }

    @Test("every statement the audit log runs uses an index: no full scan of changes or actions, no temporary sort")
    func everyQueryUsesAnIndex() async throws {
        let test = try await TestLog()
        let statements = Statements()
        await test.log.observeStatements { statements.insert($0) }
        try await Self.exerciseEveryQuery(test.log)

        let raw = try Connection(path: test.path)
        let queries = statements.all.filter { sql in
            !["BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"].contains { sql.hasPrefix($0) }
        }
        #expect(queries.count > 30)
        for sql in queries.sorted() {
            // Parameters stay unbound (NULL): the plan does not depend on their values.
            let statement = try raw.prepare("EXPLAIN QUERY PLAN " + sql)
            var plan: [String] = []
            while try statement.step() {
                plan.append(statement.column(3))
            }
            for (index, line) in plan.enumerated() {
                let fullScan = ["changes", "change_images", "actions", "batches"].contains { table in
                    line == "SCAN \(table)" || (line.hasPrefix("SCAN \(table) ") && !line.contains("USING"))
                }
                #expect(!fullScan, "full table scan: \(line)\n\(sql)")
                #expect(!line.contains("TEMP B-TREE"), "temporary sort: \(line)\n\(sql)")
                // A subquery run once a row must search its index, never walk it (a walk an outer
                // row is a scan of the table per row, even "USING INDEX").
                if line.contains("CORRELATED"), index + 1 < plan.count {
                    #expect(!plan[index + 1].hasPrefix("SCAN "), "a scan for every row: \(plan[index + 1])\n\(sql)")
                }
            }
        }
    }

    @Test("on PostgreSQL every statement the audit log runs uses an index: no sequential scan of changes or actions, no sort")
    func everyQueryUsesAnIndexOnPostgres() async throws {
        let test = try await TestLog(.postgres)
        let statements = Statements()
        await test.log.observeStatements { statements.insert($0) }
        try await Self.exerciseEveryQuery(test.log)

        let server = try await SharedPostgresServer.shared()
        let database = try #require(URL(string: test.location)).lastPathComponent
        let queries = statements.all.filter { sql in ["SELECT", "UPDATE", "DELETE"].contains { sql.hasPrefix($0) } }
        #expect(queries.count > 30)
        for sql in queries.sorted() {
            // A generic plan, as for parameters of unknown value, with sequential scans and sorts priced
            // out of reach: the planner takes one only when no index can find the rows, or give their order.
            let parameterCount = sql.matches(of: /\$([0-9]+)/).compactMap { Int($0.output.1) }.max() ?? 0
            let arguments =
                parameterCount == 0 ? "" : "(" + Array(repeating: "NULL", count: parameterCount).joined(separator: ", ") + ")"
            let plan = try await server.psql(
                """
                SET enable_seqscan = off; SET enable_sort = off; SET plan_cache_mode = force_generic_plan;
                PREPARE statement AS \(sql);
                EXPLAIN EXECUTE statement\(arguments);
                """, database: database)
            for table in ["changes", "change_images", "actions", "batches"] {
                #expect(!plan.contains("Seq Scan on \(table) "), "sequential scan of \(table):\n\(plan)\n\(sql)")
            }
            #expect(!plan.contains("Sort  ("), "sort:\n\(plan)\n\(sql)")
        }
    }

    /// Runs every public operation and every filter shape, with data, so each code path (each statement) runs.
    static func exerciseEveryQuery(_ log: AuditLog) async throws {
        let t0 = Fixture.t0
        let ids = try await log.ingest(
            [
                Fixture.message(
                    "m-1", [Fixture.change(1), Fixture.change(2), Fixture.change(3, document: nil, status: .filtered)])
            ],
            at: t0)[0].storedChangeIDs
        _ = try await log.ingest(
            [
                Fixture.message("m-2", [Fixture.change(1), Fixture.change(9, eventID: "event-2")]),
                NewMessage(
                    messageID: "m-q", body: "?", format: .unrecognized, receivedAt: t0, disposition: .quarantined(reason: "bad")),
            ],
            at: t0)
        try await log.transition(ids[0], to: .applied, action: ActionEntry(action: .applied, outcome: "ok"), at: t0)
        try await log.transition(
            ids[1], to: .failed, update: ChangeUpdate(nextAttemptAt: .some(t0), lastError: .some("timeout")),
            action: ActionEntry(action: .failed, outcome: "timeout"), at: t0)
        _ = try await log.appendAction(
            changeID: ids[0], messageID: "m-1", ActionEntry(action: .conflict, outcome: "refused"), at: t0)
        _ = try await log.change(id: ids[0])
        _ = try await log.message(id: "m-1")
        let due = try await log.dueChanges(now: t0, after: nil, limit: 1)
        _ = try await log.dueChanges(now: t0, after: due.next, limit: 1)
        _ = try await log.latestAppliedSequence(documentID: "42")
        let filters = [
            ChangeFilter(), ChangeFilter(statuses: [.failed]), ChangeFilter(statuses: [.failed, .pending], documentID: "42"),
            ChangeFilter(eventName: .modify), ChangeFilter(eventName: .remove), ChangeFilter(since: t0),
            ChangeFilter(until: t0.addingTimeInterval(1)),
            ChangeFilter(statuses: [.failed], since: t0, until: t0.addingTimeInterval(1)), ChangeFilter(errorPattern: "time"),
            ChangeFilter(ids: ids), ChangeFilter(eventName: .insert, errorPattern: "x"),
            ChangeFilter(errorEquals: "timeout"), ChangeFilter(statuses: [.failed, .parked], errorEquals: "timeout"),
            ChangeFilter(errorGroup: "0123456789"), ChangeFilter(statuses: [.failed, .parked], errorGroup: "0123456789"),
        ]
        for filter in filters {
            let page = try await log.listChanges(filter, after: nil, limit: 1)
            _ = try await log.listChanges(filter, after: page.next, limit: 1)
        }
        _ = try await log.actions(forChange: ids[0])
        _ = try await log.history(documentID: "42")
        for filter in [
            ActionFilter(), ActionFilter(actor: "system"), ActionFilter(actor: "system", actions: [.applied, .failed]),
            ActionFilter(actions: [.ingested]), ActionFilter(since: t0, until: t0.addingTimeInterval(1)),
        ] {
            let page = try await log.listActions(filter, after: nil, limit: 1)
            _ = try await log.listActions(filter, after: page.next, limit: 1)
        }
        _ = try await log.errorGroups(statuses: [])
        _ = try await log.errorGroups(statuses: [.failed, .parked])
        _ = try await log.fillErrorGroups()
        _ = try await log.stats()
        _ = try await log.verify()
        let fence = try #require(
            try await log.takeLease(name: "run", holder: "a", ttl: .seconds(5), lockHeld: true, now: t0))
        _ = try await log.renewLease(fence, now: t0)
        _ = try await log.lease(name: "run")
        try await log.checkFence(fence)
        try await log.releaseLease(fence, now: t0)
        try await log.recordRun(finishedAt: t0)
        let batchIDs = try await log.ingest(
            [Fixture.batchMessage("m-b1", start: 10, end: 20), Fixture.batchMessage("m-b2", start: 30, end: 40)], at: t0
        ).compactMap(\.batchID)
        _ = try await log.ingest([Fixture.batchMessage("m-b3", start: 10, end: 20)], at: t0)
        _ = try await log.dueBatches(now: t0, limit: 10)
        _ = try await log.storeBatchPage(
            batchIDs[0], BatchPage(changes: [Fixture.change(11)], lastReadSequenceNumber: Fixture.sequence(21), complete: true),
            at: t0)
        try await log.delayBatch(batchIDs[1], error: "throttled", until: t0, at: t0)
        try await log.expireBatch(batchIDs[1], reason: "trimmed", at: t0)
        _ = try await log.batch(id: batchIDs[0])
        let batches = try await log.listBatches(statuses: [.read, .expired], limit: 1)
        _ = try await log.listBatches(limit: 1, cursor: batches.next)

        _ = try await log.newestKnownSequences(["doc-1", "doc-9"])
        let reconcileRun = try await log.startReconcileRun(
            mode: .repair, actor: "alice", reason: "plan", segments: 2, at: t0)
        let repairIntents = try await RepairIntentTests.intents(log, run: reconcileRun.id, ["doc-1", "doc-2", "doc-3"])
        try await RepairIntentTests.complete(
            log, [RepairIntentTests.completion(repairIntents[0], "doc-1")], dropping: [repairIntents[1]])
        var page = ReconcileProgress(segment: 0, position: .done)
        page.seen = ["doc-1", "doc-4"]
        try await log.recordReconcileProgress(runID: reconcileRun.id, page, at: t0)
        #expect(try await log.unseenDocuments(runID: reconcileRun.id, ["doc-1", "doc-5"]) == ["doc-5"])
        let open = try await RepairIntentTests.openRepairs(log, before: t0)
        #expect(open.map(\.id) == [repairIntents[2]])
        try await RepairIntentTests.complete(log, [RepairIntentTests.completion(repairIntents[2], "doc-3")])
        _ = try await log.unfinishedReconcileRun(mode: .repair)
        _ = try await log.history(documentID: "doc-1")
        let finished = try await log.endReconcileRun(runID: reconcileRun.id, error: nil, at: t0.addingTimeInterval(1))
        _ = try await log.resolveExpiredBatches(coveredBy: finished, actor: "alice", reason: "plan", at: t0)
        _ = try await log.reconcileRuns(limit: 5)
        _ = try await log.stats()
    }
}
