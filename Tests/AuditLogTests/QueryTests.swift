import AuditLog
import Foundation
import SQLite
import StreamModel
import TestSupport
import Testing

@Suite("Queries")
struct QueryTests {
    /// Reads every page of a listing.
    static func allPages<Row>(limit: Int, _ page: (String?) async throws -> Page<Row>) async throws -> [Row] {
        var rows: [Row] = []
        var cursor: String?
        repeat {
            let next = try await page(cursor)
            #expect(next.rows.count <= limit)
            rows += next.rows
            cursor = next.next
        } while cursor != nil
        return rows
    }

    @Test(
        "paging sees every row exactly once, by id, even with inserts between pages",
        arguments: [
            ChangeFilter(),
            ChangeFilter(statuses: [.pending, .failed]),
            ChangeFilter(documentID: "42"),
            ChangeFilter(eventName: .modify),
            ChangeFilter(since: Fixture.t0, until: Fixture.t0.addingTimeInterval(3600)),
            ChangeFilter(errorPattern: "time%out"),
        ])
    func pagingIsStable(filter: ChangeFilter) async throws {
        let test = try await TestLog()
        var originals: [Int64] = []
        for n in 1...23 {
            let id = try await Fixture.ingestOne(test.log, n, at: Fixture.t0.addingTimeInterval(Double(n)))
            if n % 2 == 0 {
                try await test.log.transition(
                    id, to: .failed, update: ChangeUpdate(lastError: .some("OpenSearch Timed Out after 30 s")),
                    action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
            } else {
                try await test.log.transition(
                    id, to: .failed, update: ChangeUpdate(lastError: .some("timeout")),
                    action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
            }
            originals.append(id)
        }
        var seen: [Int64] = []
        var cursor: String?
        var inserted = 100
        repeat {
            let page = try await test.log.listChanges(filter, after: cursor, limit: 5)
            #expect(page.rows.count <= 5)
            seen += page.rows.map(\.id)
            cursor = page.next
            // A concurrent writer adds matching rows between pages.
            inserted += 1
            let id = try await Fixture.ingestOne(test.log, inserted, at: Fixture.t0.addingTimeInterval(10))
            try await test.log.transition(
                id, to: .failed, update: ChangeUpdate(lastError: .some("timeout")),
                action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
        } while cursor != nil && inserted < 200
        #expect(seen == seen.sorted())
        #expect(Set(seen).count == seen.count, "no row repeated")
        let expected =
            filter.errorPattern == nil ? originals : originals.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        #expect(Set(expected).isSubset(of: Set(seen)), "no original row lost")
    }

    @Test("each filter selects exactly its rows", arguments: StoreBackend.allCases)
    func filters(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let a = try await Fixture.ingestOne(test.log, 1, document: "1", at: Fixture.t0)
        let b = try await test.log.ingest(
            [Fixture.message("m-b", [Fixture.change(2, document: "2", event: .insert)])],
            at: Fixture.t0.addingTimeInterval(100))[0].storedChangeIDs[0]
        let c = try await test.log.ingest(
            [Fixture.message("m-c", [Fixture.change(3, document: "2", event: .remove)])],
            at: Fixture.t0.addingTimeInterval(200))[0].storedChangeIDs[0]
        try await test.log.transition(
            b, to: .failed, update: ChangeUpdate(lastError: .some("mapper_parsing_exception: field [rating]")),
            action: ActionEntry(action: .failed, outcome: "400"), at: Fixture.t0)
        try await test.log.transition(c, to: .applied, action: ActionEntry(action: .applied, outcome: "deleted"), at: Fixture.t0)

        func ids(_ filter: ChangeFilter) async throws -> [Int64] {
            try await QueryTests.allPages(limit: 2) { try await test.log.listChanges(filter, after: $0, limit: 2) }.map(\.id)
        }
        #expect(try await ids(ChangeFilter()) == [a, b, c])
        #expect(try await ids(ChangeFilter(statuses: [.pending])) == [a])
        #expect(try await ids(ChangeFilter(statuses: [.failed, .applied])) == [b, c])
        #expect(try await ids(ChangeFilter(statuses: Set(ChangeStatus.allCases))) == [a, b, c])
        #expect(try await ids(ChangeFilter(documentID: "2")) == [b, c])
        #expect(try await ids(ChangeFilter(statuses: [.applied], documentID: "2")) == [c])
        #expect(try await ids(ChangeFilter(eventName: .remove)) == [c])
        #expect(try await ids(ChangeFilter(since: Fixture.t0.addingTimeInterval(100))) == [b, c])
        #expect(try await ids(ChangeFilter(until: Fixture.t0.addingTimeInterval(200))) == [a, b])
        #expect(
            try await ids(ChangeFilter(since: Fixture.t0.addingTimeInterval(50), until: Fixture.t0.addingTimeInterval(150))) == [
                b
            ])
        #expect(try await ids(ChangeFilter(since: Fixture.t0.addingTimeInterval(500))) == [])
        #expect(try await ids(ChangeFilter(errorPattern: "MAPPER_parsing")) == [b])
        #expect(try await ids(ChangeFilter(errorPattern: "field [rating]")) == [b])
        #expect(try await ids(ChangeFilter(errorPattern: "nothing like this")) == [])
        #expect(try await ids(ChangeFilter(ids: [c, a, 999])) == [a, c])
        #expect(try await ids(ChangeFilter(statuses: [.pending], ids: [b, c])) == [])
    }

    @Test("a time filter stays correct when creation times do not grow with ids", arguments: StoreBackend.allCases)
    func timeFilterOutOfOrder(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let late = try await Fixture.ingestOne(test.log, 1, at: Fixture.t0.addingTimeInterval(1000))
        let early = try await Fixture.ingestOne(test.log, 2, at: Fixture.t0)
        let middle = try await Fixture.ingestOne(test.log, 3, at: Fixture.t0.addingTimeInterval(500))
        let inRange = try await QueryTests.allPages(limit: 1) {
            try await test.log.listChanges(ChangeFilter(since: Fixture.t0.addingTimeInterval(400)), after: $0, limit: 1)
        }
        #expect(inRange.map(\.id) == [late, middle])
        let before = try await test.log.listChanges(
            ChangeFilter(until: Fixture.t0.addingTimeInterval(600)), after: nil, limit: 10)
        #expect(before.rows.map(\.id) == [early, middle])
    }

    @Test(
        "history orders a document's changes by numeric sequence, also where text order differs", arguments: StoreBackend.allCases
    )
    func historyOrder(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        // 22 digits starting with 1 is larger than 21 digits starting with 9; text order says the opposite.
        let larger = SequenceNumber("1000000000000000000001")!
        let smaller = SequenceNumber("900000000000000000000")!
        let smallest = SequenceNumber("899999999999999999999")!
        func change(_ sequence: SequenceNumber, _ eventID: String) -> NewChange {
            var change = Fixture.change(1, eventID: eventID)
            change.sequenceNumber = sequence
            return change
        }
        let outcome = try await test.log.ingest(
            [Fixture.message("m-1", [change(larger, "e-l"), change(smallest, "e-s"), change(smaller, "e-m")])],
            at: Fixture.t0)
        let (largerID, smallestID, smallerID) = (
            outcome[0].storedChangeIDs[0], outcome[0].storedChangeIDs[1], outcome[0].storedChangeIDs[2]
        )
        try await test.log.transition(
            smallerID, to: .applied, action: ActionEntry(action: .applied, outcome: "indexed"), at: Fixture.t0)
        try await test.log.transition(
            largerID, to: .applied, action: ActionEntry(action: .applied, outcome: "indexed"), at: Fixture.t0)

        let history = try await test.log.history(documentID: "42")
        #expect(history.changes.map(\.sequenceNumber) == [smallest, smaller, larger])
        #expect(history.changes.map(\.id) == [smallestID, smallerID, largerID])
        #expect(history.actions.map(\.id) == history.actions.map(\.id).sorted())
        #expect(history.actions.count == 5)
        #expect(Set(history.actions.compactMap(\.changeID)) == [largerID, smallestID, smallerID])
        #expect(try await test.log.latestAppliedSequence(documentID: "42") == larger)
        #expect(try await test.log.latestAppliedSequence(documentID: "7") == nil)
        let due = try await test.log.dueChanges(now: Fixture.t0, after: nil, limit: 10)
        #expect(due.rows.map(\.id) == [smallestID])
        #expect(try await test.log.history(documentID: "nobody").changes.isEmpty)
    }

    @Test(
        "due work: pending, and failed once its next attempt time has come, by document then sequence",
        arguments: StoreBackend.allCases)
    func dueChanges(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let b2 = try await Fixture.ingestOne(test.log, 4, document: "b")
        let a1 = try await Fixture.ingestOne(test.log, 1, document: "a")
        let b1 = try await Fixture.ingestOne(test.log, 3, document: "b")
        let a2 = try await Fixture.ingestOne(test.log, 2, document: "a")
        let later = try await Fixture.ingestOne(test.log, 5, document: "c")
        let applied = try await Fixture.ingestOne(test.log, 6, document: "a")
        _ = try await Fixture.ingestOne(test.log, 7, document: nil, status: .filtered)
        try await test.log.transition(
            a2, to: .failed, update: ChangeUpdate(nextAttemptAt: .some(Fixture.t0.addingTimeInterval(10))),
            action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
        try await test.log.transition(
            later, to: .failed, update: ChangeUpdate(nextAttemptAt: .some(Fixture.t0.addingTimeInterval(3600))),
            action: ActionEntry(action: .failed, outcome: "timeout"), at: Fixture.t0)
        try await test.log.transition(applied, to: .applied, action: ActionEntry(action: .applied, outcome: "ok"), at: Fixture.t0)

        let now = Fixture.t0.addingTimeInterval(10)
        let due = try await QueryTests.allPages(limit: 2) { try await test.log.dueChanges(now: now, after: $0, limit: 2) }
        #expect(due.map(\.id) == [a1, a2, b1, b2])
        // Only each document's newest due change comes with its new image (the one a replay
        // writes); no change comes with its old image.
        #expect(due.map { $0.newImage != nil } == [false, true, false, true])
        #expect(due.allSatisfy { $0.oldImage == nil })
        let earlier = try await test.log.dueChanges(now: Fixture.t0, after: nil, limit: 10)
        #expect(earlier.rows.map(\.id) == [a1, b1, b2])
        #expect(earlier.rows.map { $0.newImage != nil } == [true, false, true])
        #expect(earlier.next == nil)
    }

    @Test("a cursor from another listing, or not a cursor at all, is refused", arguments: StoreBackend.allCases)
    func invalidCursor(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        for n in 1...3 { _ = try await Fixture.ingestOne(test.log, n) }
        let page = try await test.log.listChanges(ChangeFilter(), after: nil, limit: 1)
        let cursor = try #require(page.next)
        await #expect {
            try await test.log.dueChanges(now: Fixture.t0, after: cursor, limit: 1)
        } throws: { error in
            (error as? AuditLogError)?.code == .invalidCursor
        }
        await #expect {
            try await test.log.listActions(ActionFilter(), after: "%%% not base64", limit: 1)
        } throws: { error in
            (error as? AuditLogError)?.code == .invalidCursor
        }
    }

    @Test("actions by actor, kind and time, paged by id", arguments: StoreBackend.allCases)
    func listActions(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let id = try await Fixture.ingestOne(test.log, 1)
        try await test.log.transition(
            id, to: .skipped, action: ActionEntry(action: .skipped, actor: "alice", reason: "bad data", outcome: "skipped"),
            at: Fixture.t0.addingTimeInterval(100))
        try await test.log.transition(
            id, to: .pending, action: ActionEntry(action: .retried, actor: "bob", outcome: "queued"),
            at: Fixture.t0.addingTimeInterval(200))
        try await test.log.transition(
            id, to: .skipped, action: ActionEntry(action: .skipped, actor: "bob", reason: "again", outcome: "skipped"),
            at: Fixture.t0.addingTimeInterval(300))

        func kinds(_ filter: ActionFilter) async throws -> [ActionKind] {
            try await QueryTests.allPages(limit: 1) { try await test.log.listActions(filter, after: $0, limit: 1) }.map(\.action)
        }
        #expect(try await kinds(ActionFilter()) == [.ingested, .skipped, .retried, .skipped])
        #expect(try await kinds(ActionFilter(actor: "bob")) == [.retried, .skipped])
        #expect(try await kinds(ActionFilter(actor: "bob", actions: [.skipped])) == [.skipped])
        #expect(try await kinds(ActionFilter(actions: [.skipped, .ingested])) == [.ingested, .skipped, .skipped])
        #expect(try await kinds(ActionFilter(actions: Set(ActionKind.allCases))) == [.ingested, .skipped, .retried, .skipped])
        #expect(try await kinds(ActionFilter(since: Fixture.t0.addingTimeInterval(150))) == [.retried, .skipped])
        #expect(try await kinds(ActionFilter(actor: "alice", until: Fixture.t0.addingTimeInterval(150))) == [.skipped])
        #expect(try await kinds(ActionFilter(actor: "carol")) == [])
    }

    @Test("error groups count changes per error text, with first and last seen and statuses", arguments: StoreBackend.allCases)
    func errorGroups(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        var ids: [Int64] = []
        for n in 1...5 {
            ids.append(try await Fixture.ingestOne(test.log, n, at: Fixture.t0.addingTimeInterval(Double(n))))
        }
        func fail(_ id: Int64, _ error: String) async throws {
            try await test.log.transition(
                id, to: .failed, update: ChangeUpdate(lastError: .some(error)),
                action: ActionEntry(action: .failed, outcome: "failed"), at: Fixture.t0)
        }
        // OpenSearch names the document and its value: three documents, one mapping mistake, one group.
        func refused(_ document: Int) -> String {
            "OpenSearch 400 mapper_parsing_exception: failed to parse field [name] of type [integer] in document with id "
                + "'\(document)'. Preview of field's value: 'Artist \(document)'"
        }
        try await fail(ids[0], refused(1))
        try await fail(ids[1], refused(2))
        try await fail(ids[2], refused(3))
        try await fail(ids[3], "timeout")
        try await test.log.transition(
            ids[2], to: .parked, action: ActionEntry(action: .parked, outcome: "parked"), at: Fixture.t0)

        let groups = try await test.log.errorGroups(statuses: [])
        let mapping = FailureFingerprint(error: refused(1))
        #expect(groups.map(\.id) == [mapping.groupID, FailureFingerprint(error: "timeout").groupID])
        #expect(groups[0].fingerprint == mapping.text)
        #expect(groups[0].error == refused(3), "the newest change's full text is the example")
        #expect(groups[0].count == 3)
        #expect(groups[0].statuses == [.failed: 2, .parked: 1])
        #expect(groups[0].firstSeen == Fixture.t0.addingTimeInterval(1))
        #expect(groups[0].lastSeen == Fixture.t0.addingTimeInterval(3))
        #expect(groups[1].count == 1 && groups[1].error == "timeout")
        #expect(try await test.log.errorGroups(statuses: [], limit: 1).map(\.id) == [mapping.groupID], "the largest first")
        let parkedOnly = try await test.log.errorGroups(statuses: [.parked])
        #expect(
            parkedOnly == [
                ErrorGroup(
                    id: mapping.groupID, fingerprint: mapping.text, error: refused(3), count: 1, documents: 1,
                    firstSeen: Fixture.t0.addingTimeInterval(3), lastSeen: Fixture.t0.addingTimeInterval(3),
                    statuses: [.parked: 1])
            ])
        let listed = try await test.log.listChanges(ChangeFilter(errorGroup: mapping.groupID), after: nil, limit: 10)
        #expect(listed.rows.map(\.id) == Array(ids[0...2]))
        // Applied again: the error and its group are cleared with it.
        try await test.log.transition(
            ids[0], to: .applied, update: ChangeUpdate(lastError: .some(nil)),
            action: ActionEntry(action: .applied, outcome: "ok"), at: Fixture.t0)
        #expect(try await test.log.errorGroups(statuses: []).first?.count == 2)
    }

    @Test("changes stored before fingerprints get theirs at the next open", arguments: StoreBackend.allCases)
    func fingerprintsFilledAtOpen(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        var ids: [Int64] = []
        for n in 1...3 {
            let id = try await Fixture.ingestOne(test.log, n, at: Fixture.t0)
            try await test.log.transition(
                id, to: .failed, update: ChangeUpdate(lastError: .some("[\(n)]: version conflict, required seqNo [\(n)]")),
                action: ActionEntry(action: .failed, outcome: "failed"), at: Fixture.t0)
            ids.append(id)
        }
        // As a store migrated from before 0014 holds them: an error without a fingerprint.
        let clear = "UPDATE changes SET error_fingerprint = NULL, error_group = NULL"
        switch backend {
        case .sqlite: try Connection(path: test.path).execute(clear)
        case .postgres:
            let database = try #require(URL(string: test.location)).lastPathComponent
            _ = try await SharedPostgresServer.shared().psql(clear, database: database)
        }
        #expect(try await test.log.errorGroups(statuses: []).isEmpty)
        let reopened = try await test.reopen()
        let groups = try await reopened.errorGroups(statuses: [])
        #expect(groups.count == 1 && groups.first?.count == 3, "\(groups)")
        #expect(groups.first?.fingerprint == "[<id>]: version conflict, required seqNo [<value>]")
        #expect(try await reopened.fillErrorGroups() == 0, "nothing left to fill")
    }

    @Test(
        "stats list every status with zeros, messages, the oldest open change and the last run", arguments: StoreBackend.allCases)
    func stats(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let empty = try await test.log.stats()
        #expect(empty.changes.count == ChangeStatus.allCases.count)
        #expect(empty.changes.values.allSatisfy { $0 == 0 })
        #expect(empty.messagesTotal == 0)
        #expect(empty.messagesQuarantined == 0)
        #expect(empty.oldestPendingCreatedAt == nil)
        #expect(empty.lastRunAt == nil)

        let first = try await Fixture.ingestOne(test.log, 1, at: Fixture.t0)
        _ = try await Fixture.ingestOne(test.log, 2, at: Fixture.t0.addingTimeInterval(60))
        _ = try await Fixture.ingestOne(test.log, 3, status: .filtered)
        try await test.log.transition(first, to: .failed, action: ActionEntry(action: .failed, outcome: "x"), at: Fixture.t0)
        try await test.log.recordRun(finishedAt: Fixture.t0.addingTimeInterval(5))
        try await test.log.recordRun(finishedAt: Fixture.t0.addingTimeInterval(90))
        let stats = try await test.log.stats()
        var expected = Dictionary(uniqueKeysWithValues: ChangeStatus.allCases.map { ($0, 0) })
        expected[.failed] = 1
        expected[.pending] = 1
        expected[.filtered] = 1
        #expect(stats.changes == expected)
        #expect(stats.messagesTotal == 3)
        #expect(stats.oldestPendingCreatedAt == Fixture.t0)
        #expect(stats.lastRunAt == Fixture.t0.addingTimeInterval(90))
    }
}
