import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

/// The store queries behind the console (issue 24): newest-first paging with totals, the
/// quarantine's resolutions, search by correlation id and message, hourly action counts. On both stores.
@Suite("Console queries")
struct ConsoleQueryTests {
    /// Stores `count` changes, the even ones failed, and returns their ids.
    static func seed(_ log: AuditLog, count: Int) async throws -> [Int64] {
        var ids: [Int64] = []
        for n in 1...count {
            let id = try await Fixture.ingestOne(log, n, document: "\(n % 3)", at: Fixture.t0.addingTimeInterval(Double(n)))
            if n % 2 == 0 {
                try await log.transition(
                    id, to: .failed, update: ChangeUpdate(lastError: .some("timeout")),
                    action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0.addingTimeInterval(Double(n)))
            }
            ids.append(id)
        }
        return ids
    }

    @Test(
        "newest first pages every matching row once, highest id first, and the count is the listing's",
        arguments: StoreBackend.allCases,
        [
            ChangeFilter(), ChangeFilter(statuses: [.pending, .failed]), ChangeFilter(statuses: [.failed]),
            ChangeFilter(documentID: "1"), ChangeFilter(since: Fixture.t0.addingTimeInterval(5)),
            ChangeFilter(errorPattern: "time"),
        ])
    func newestFirst(_ backend: StoreBackend, filter: ChangeFilter) async throws {
        let test = try await TestLog(backend)
        _ = try await Self.seed(test.log, count: 13)
        let oldest = try await QueryTests.allPages(limit: 4) {
            try await test.log.listChanges(filter, after: $0, limit: 4)
        }.map(\.id)
        var newest: [Int64] = []
        var cursor: String?
        var inserted = 100
        repeat {
            let page = try await test.log.listChanges(filter, after: cursor, limit: 4, newestFirst: true)
            #expect(page.rows.count <= 4)
            newest += page.rows.map(\.id)
            cursor = page.next
            // A writer adds a row between pages: a newer one, never shown on a later page.
            inserted += 1
            _ = try await Fixture.ingestOne(test.log, inserted, document: "1", at: Fixture.t0.addingTimeInterval(50))
        } while cursor != nil
        #expect(!oldest.isEmpty)
        #expect(newest == oldest.reversed(), "newest first is the oldest-first listing reversed")
        let count = try await test.log.countChanges(filter)
        let all = try await QueryTests.allPages(limit: 1000) { try await test.log.listChanges(filter, after: $0, limit: 1000) }
        #expect(count == all.count, "the count is the listing's length now")
    }

    @Test("a cursor of one order is refused by the other", arguments: StoreBackend.allCases)
    func cursorsKeepTheirOrder(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        _ = try await Self.seed(test.log, count: 5)
        let newest = try await test.log.listChanges(ChangeFilter(), after: nil, limit: 2, newestFirst: true)
        let next = try #require(newest.next)
        try AuditLog.checkCursor(next, for: .changes)
        await #expect(throws: AuditLogError.self) { try await test.log.listChanges(ChangeFilter(), after: next, limit: 2) }
        let actions = try await test.log.listActions(ActionFilter(), after: nil, limit: 2, newestFirst: true)
        let ids = actions.rows.map(\.id)
        #expect(ids == ids.sorted(by: >) && ids.count == 2)
        #expect(try await test.log.countActions(ActionFilter(actions: [.failed])) == 2)
        #expect(try await test.log.countActions(ActionFilter(actions: [.ingested, .failed])) == 7)
    }

    /// A message an older version quarantined although its body (`body`) reads now.
    static func quarantine(_ log: AuditLog, _ id: String, body: String = "unreadable then", correlationID: String? = nil)
        async throws
    {
        _ = try await log.ingest(
            [
                NewMessage(
                    messageID: id, body: body, format: .unrecognized, correlationID: correlationID,
                    receivedAt: Fixture.t0, disposition: .quarantined(reason: "unknown envelope"))
            ], at: Fixture.t0)
    }

    @Test(
        "a quarantined message is deleted or re-ingested once, recorded on the chain, and no longer waits",
        arguments: StoreBackend.allCases)
    func quarantineResolutions(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        try await Self.quarantine(test.log, "q-delete")
        try await Self.quarantine(test.log, "q-reingest", correlationID: "corr-1")
        let batch = Fixture.batchMessage("unused", start: 1, end: 4)
        try await Self.quarantine(test.log, "q-batch", body: batch.body)
        _ = try await Fixture.ingestOne(test.log, 1)
        #expect(try await test.log.countWaitingInQuarantine() == 3)
        #expect(try await test.log.stats().messagesQuarantined == 3)

        let deleted = try await test.log.resolveQuarantined(
            messageID: "q-delete", .delete, actor: "alice", reason: "spam", at: Fixture.t0.addingTimeInterval(10))
        #expect(deleted.action.action == .deleted && deleted.action.reason == "spam" && deleted.stored == nil)
        let changes = [Fixture.change(7, document: "7"), Fixture.change(8, document: nil, status: .filtered)]
        let reingested = try await test.log.resolveQuarantined(
            messageID: "q-reingest", .reingest(.changes(changes)), actor: "bob", reason: nil,
            at: Fixture.t0.addingTimeInterval(20))
        #expect(reingested.action.action == .reingested && reingested.action.actor == "bob")
        #expect(reingested.stored?.storedChangeIDs.count == 2)
        #expect(reingested.action.outcome == "re-ingested: 2 changes stored")
        guard case .batch(let newBatch) = batch.disposition else {
            Issue.record("the fixture's batch message names no batch")
            return
        }
        let batchResult = try await test.log.resolveQuarantined(
            messageID: "q-batch", .reingest(.batch(newBatch)), actor: "bob", reason: "parser fixed", at: Fixture.t0)
        #expect(batchResult.stored?.batchID != nil)

        #expect(try await test.log.countWaitingInQuarantine() == 0)
        #expect(try await test.log.stats().messagesQuarantined == 0)
        #expect(try await test.log.quarantinedMessages(after: nil, limit: 10).rows.isEmpty)
        #expect(try await test.log.quarantineResolution(messageID: "q-delete")?.actor == "alice")
        let stored = try #require(reingested.stored?.storedChangeIDs.first)
        #expect(try await test.log.change(id: stored)?.messageID == "q-reingest")
        #expect(try await test.log.changeIDs(messageID: "q-reingest", limit: 10) == reingested.stored?.storedChangeIDs)

        // Once only; a message never quarantined, or unknown, is refused.
        for (id, code) in [
            ("q-delete", AuditLogError.Code.illegalTransition), ("message-1", .illegalTransition), ("nobody", .notFound),
        ] {
            do {
                _ = try await test.log.resolveQuarantined(messageID: id, .delete, actor: "carol", reason: "again", at: Fixture.t0)
                Issue.record("\(id) was resolved")
            } catch {
                #expect(error.code == code, "\(id): \(error)")
            }
        }
        // A reading that is still quarantined stores nothing.
        try await Self.quarantine(test.log, "q-still")
        do {
            _ = try await test.log.resolveQuarantined(
                messageID: "q-still", .reingest(.quarantined(reason: "still unknown")), actor: "bob", reason: nil,
                at: Fixture.t0)
            Issue.record("a still-unreadable body was re-ingested")
        } catch {
            #expect(error.code == .illegalTransition)
        }
        #expect(try await test.log.countWaitingInQuarantine() == 1)

        let report = try await test.log.verify()
        #expect(report.isIntact, "the chain and every row verify after the resolutions: \(report.rowProblems)")
    }

    @Test("the messages of a correlation id, and the changes of a message", arguments: StoreBackend.allCases)
    func search(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        _ = try await test.log.ingest(
            [
                Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)], correlationID: "req-9"),
                Fixture.message("m-2", [Fixture.change(3)], correlationID: "req-9"),
                Fixture.message("m-3", [Fixture.change(4)], correlationID: "req-10"),
            ], at: Fixture.t0)
        #expect(try await test.log.messages(correlationID: "req-9", limit: 10).map(\.messageID).sorted() == ["m-1", "m-2"])
        #expect(try await test.log.messages(correlationID: "req-9", limit: 1).count == 1)
        #expect(try await test.log.messages(correlationID: "req-1", limit: 10).isEmpty)
        #expect(try await test.log.changeIDs(messageID: "m-1", limit: 10).count == 2)
        #expect(try await test.log.changeIDs(messageID: "m-9", limit: 10).isEmpty)
    }

    @Test("actions per hour over a day, by kind, the oldest hour first", arguments: StoreBackend.allCases)
    func hourlyCounts(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let end = Fixture.t0.addingTimeInterval(24 * 3600)
        // Ingested at t0 (the first hour), failed 90 minutes in (the second), and one a day too old.
        let id = try await Fixture.ingestOne(test.log, 1, at: Fixture.t0)
        try await test.log.transition(
            id, to: .failed, update: ChangeUpdate(lastError: .some("x")), action: ActionEntry(action: .failed, outcome: "x"),
            at: Fixture.t0.addingTimeInterval(90 * 60))
        _ = try await Fixture.ingestOne(test.log, 2, at: Fixture.t0.addingTimeInterval(-1))
        _ = try await Fixture.ingestOne(test.log, 3, at: end.addingTimeInterval(-1))
        let counts = try await test.log.hourlyActionCounts([.ingested, .failed, .applied], hours: 24, end: end)
        var ingested = Array(repeating: 0, count: 24)
        ingested[0] = 1
        ingested[23] = 1
        var failed = Array(repeating: 0, count: 24)
        failed[1] = 1
        #expect(counts[.ingested] == ingested)
        #expect(counts[.failed] == failed)
        #expect(counts[.applied] == Array(repeating: 0, count: 24))
    }
}
