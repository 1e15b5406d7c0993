import Foundation
import SQLite
import StreamModel
import Synchronization
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

        // Exercise every public operation and every filter shape, with data, so each code path runs.
        let t0 = Fixture.t0
        let ids = try await test.log.ingest(
            [
                Fixture.message(
                    "m-1", [Fixture.change(1), Fixture.change(2), Fixture.change(3, document: nil, status: .filtered)])
            ],
            at: t0)[0].storedChangeIDs
        _ = try await test.log.ingest(
            [
                Fixture.message("m-2", [Fixture.change(1), Fixture.change(9, eventID: "event-2")]),
                NewMessage(
                    messageID: "m-q", body: "?", format: .unrecognized, receivedAt: t0, disposition: .quarantined(reason: "bad")),
            ],
            at: t0)
        try await test.log.transition(ids[0], to: .applied, action: ActionEntry(action: .applied, outcome: "ok"), at: t0)
        try await test.log.transition(
            ids[1], to: .failed, update: ChangeUpdate(nextAttemptAt: .some(t0), lastError: .some("timeout")),
            action: ActionEntry(action: .failed, outcome: "timeout"), at: t0)
        _ = try await test.log.appendAction(
            changeID: ids[0], messageID: "m-1", ActionEntry(action: .conflict, outcome: "refused"), at: t0)
        _ = try await test.log.change(id: ids[0])
        _ = try await test.log.message(id: "m-1")
        let due = try await test.log.dueChanges(now: t0, after: nil, limit: 1)
        _ = try await test.log.dueChanges(now: t0, after: due.next, limit: 1)
        _ = try await test.log.latestAppliedSequence(documentID: "42")
        let filters = [
            ChangeFilter(), ChangeFilter(statuses: [.failed]), ChangeFilter(statuses: [.failed, .pending], documentID: "42"),
            ChangeFilter(eventName: .modify), ChangeFilter(since: t0), ChangeFilter(until: t0.addingTimeInterval(1)),
            ChangeFilter(statuses: [.failed], since: t0, until: t0.addingTimeInterval(1)), ChangeFilter(errorPattern: "time"),
            ChangeFilter(ids: ids), ChangeFilter(eventName: .insert, errorPattern: "x"),
            ChangeFilter(errorEquals: "timeout"), ChangeFilter(statuses: [.failed, .parked], errorEquals: "timeout"),
        ]
        for filter in filters {
            let page = try await test.log.listChanges(filter, after: nil, limit: 1)
            _ = try await test.log.listChanges(filter, after: page.next, limit: 1)
        }
        _ = try await test.log.actions(forChange: ids[0])
        _ = try await test.log.history(documentID: "42")
        for filter in [
            ActionFilter(), ActionFilter(actor: "system"), ActionFilter(actor: "system", actions: [.applied, .failed]),
            ActionFilter(actions: [.ingested]), ActionFilter(since: t0, until: t0.addingTimeInterval(1)),
        ] {
            let page = try await test.log.listActions(filter, after: nil, limit: 1)
            _ = try await test.log.listActions(filter, after: page.next, limit: 1)
        }
        _ = try await test.log.errorGroups(statuses: [])
        _ = try await test.log.errorGroups(statuses: [.failed, .parked])
        _ = try await test.log.stats()
        _ = try await test.log.verify()
        let fence = try #require(
            try await test.log.takeLease(name: "run", holder: "a", ttl: .seconds(5), lockHeld: true, now: t0))
        _ = try await test.log.renewLease(fence, now: t0)
        _ = try await test.log.lease(name: "run")
        try await test.log.checkFence(fence)
        try await test.log.releaseLease(fence, now: t0)
        try await test.log.recordRun(finishedAt: t0)
        let batchIDs = try await test.log.ingest(
            [Fixture.batchMessage("m-b1", start: 10, end: 20), Fixture.batchMessage("m-b2", start: 30, end: 40)], at: t0
        ).compactMap(\.batchID)
        _ = try await test.log.ingest([Fixture.batchMessage("m-b3", start: 10, end: 20)], at: t0)
        _ = try await test.log.dueBatches(now: t0, limit: 10)
        _ = try await test.log.storeBatchPage(
            batchIDs[0], BatchPage(changes: [Fixture.change(11)], lastReadSequenceNumber: Fixture.sequence(21), complete: true),
            at: t0)
        try await test.log.delayBatch(batchIDs[1], error: "throttled", until: t0, at: t0)
        try await test.log.expireBatch(batchIDs[1], reason: "trimmed", at: t0)
        _ = try await test.log.batch(id: batchIDs[0])
        let batches = try await test.log.listBatches(statuses: [.read, .expired], limit: 1)
        _ = try await test.log.listBatches(limit: 1, cursor: batches.next)

        _ = try await test.log.newestKnownSequences(["doc-1", "doc-9"])
        let reconcileRun = try await test.log.startReconcileRun(
            mode: .repair, actor: "alice", reason: "plan", segments: 2, at: t0)
        let repairIntents = try await test.log.recordRepairIntents(
            ["doc-1", "doc-2", "doc-3"].map {
                RepairIntent(
                    runID: reconcileRun.id, documentID: $0, kind: "missing", operation: .index,
                    stampSequence: Fixture.sequence(1), stampAppliedAt: "2026-11-24T10:00:00.000Z")
            }, at: t0)
        let repaired = ActionEntry(action: .reconciled, actor: "alice", outcome: "missing", response: #"{"documentId": "doc-1"}"#)
        var page = ReconcileProgress(segment: 0, position: .done)
        page.found = ["missing": ["doc-1"]]
        page.repairs = [
            RepairCompletion(
                intentID: repairIntents[0], runID: reconcileRun.id, documentID: "doc-1", kind: "missing", action: repaired)
        ]
        page.droppedIntents = [repairIntents[1]]
        page.seen = ["doc-1", "doc-4"]
        try await test.log.recordReconcileProgress(runID: reconcileRun.id, page, at: t0)
        #expect(try await test.log.unseenDocuments(runID: reconcileRun.id, ["doc-1", "doc-5"]) == ["doc-5"])
        let open = try await test.log.openRepairIntents(recordedBefore: t0, limit: 10)
        #expect(open.map(\.id) == [repairIntents[2]])
        try await test.log.recordRecoveredRepairs(
            [
                RepairCompletion(
                    intentID: repairIntents[2], runID: reconcileRun.id, documentID: "doc-3", kind: "missing", action: repaired)
            ],
            dropping: [], at: t0)
        _ = try await test.log.unfinishedReconcileRun(mode: .repair)
        _ = try await test.log.history(documentID: "doc-1")
        let finished = try await test.log.endReconcileRun(runID: reconcileRun.id, error: nil, at: t0.addingTimeInterval(1))
        _ = try await test.log.resolveExpiredBatches(coveredBy: finished, actor: "alice", reason: "plan", at: t0)
        _ = try await test.log.reconcileRuns(limit: 5)
        _ = try await test.log.stats()

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
            for line in plan {
                let fullScan = ["changes", "actions", "batches"].contains { table in
                    line == "SCAN \(table)" || (line.hasPrefix("SCAN \(table) ") && !line.contains("USING"))
                }
                #expect(!fullScan, "full table scan: \(line)\n\(sql)")
                #expect(!line.contains("TEMP B-TREE"), "temporary sort: \(line)\n\(sql)")
            }
        }
    }
}
