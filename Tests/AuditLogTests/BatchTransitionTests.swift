import AuditLog
import Foundation
import SQLite
import Testing

@Suite("Transitions in one transaction")
struct BatchTransitionTests {
    @Test(
        "a batch makes every allowed move and reports each refused one in its place, changing nothing for it",
        arguments: StoreBackend.allCases)
    func allowedMovesAreMadeAndRefusalsReported(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let toApply = try await Fixture.ingestOne(test.log, 1, document: "1")
        let alreadyApplied = try await Fixture.ingestOne(test.log, 2, document: "2")
        let toFail = try await Fixture.ingestOne(test.log, 3, document: "3")
        try await test.log.transition(
            alreadyApplied, to: .applied, action: ActionEntry(action: .applied, outcome: "setup"), at: Fixture.t0)
        let appliedBefore = try #require(try await test.log.change(id: alreadyApplied))
        let actionsBefore = try await test.log.actions(forChange: alreadyApplied)
        let retryAt = Fixture.t0.addingTimeInterval(30)

        let results = try await test.log.transitions(
            [
                TransitionRequest(
                    toApply, to: .applied, expecting: [.pending],
                    action: ActionEntry(action: .applied, outcome: "indexed", response: #"{"status":200}"#)),
                TransitionRequest(
                    alreadyApplied, to: .applied, expecting: [.pending],
                    action: ActionEntry(action: .applied, outcome: "indexed")),
                TransitionRequest(
                    toFail, to: .failed, expecting: [.pending],
                    update: ChangeUpdate(attempts: 1, nextAttemptAt: .some(retryAt), lastError: .some("OpenSearch 503")),
                    action: ActionEntry(action: .failed, outcome: "OpenSearch 503")),
                TransitionRequest(9999, to: .applied, action: ActionEntry(action: .applied, outcome: "indexed")),
            ], at: Fixture.t0.addingTimeInterval(1))

        #expect(results.count == 4)
        #expect(try results[0].get().status == .applied)
        #expect(try results[0].get().updatedAt == Fixture.t0.addingTimeInterval(1))
        #expect(throws: AuditLogError.self) { try results[1].get() }
        if case .failure(let refusal) = results[1] { #expect(refusal.code == .illegalTransition) }
        let failed = try results[2].get()
        #expect(failed.status == .failed && failed.attempts == 1 && failed.lastError == "OpenSearch 503")
        #expect(failed.nextAttemptAt == retryAt)
        if case .failure(let refusal) = results[3] { #expect(refusal.code == .notFound) } else { Issue.record("9999 moved") }

        #expect(try await test.log.change(id: alreadyApplied) == appliedBefore)
        #expect(try await test.log.actions(forChange: alreadyApplied) == actionsBefore)
        #expect(try await test.log.actions(forChange: toApply).map(\.action) == [.ingested, .applied])
        #expect(try await test.log.actions(forChange: toApply).last?.response == #"{"status":200}"#)
        #expect(try await test.log.actions(forChange: toFail).map(\.action) == [.ingested, .failed])
        #expect(try await test.log.verify().isIntact)
    }

    @Test("when the database cannot be written, the batch throws and makes none of its moves")
    func storageFailureMakesNoMove() async throws {
        let test = try await TestLog()
        let first = try await Fixture.ingestOne(test.log, 1, document: "1")
        let second = try await Fixture.ingestOne(test.log, 2, document: "2")
        // Another connection holds the write lock past the audit log's busy timeout.
        let blocker = try Connection(path: test.path, busyTimeout: .milliseconds(100))
        try blocker.execute("BEGIN IMMEDIATE")
        await #expect(throws: AuditLogError.self) {
            try await test.log.transitions(
                [first, second].map {
                    TransitionRequest(
                        $0, to: .applied, expecting: [.pending], action: ActionEntry(action: .applied, outcome: "indexed"))
                }, at: Fixture.t0)
        }
        try blocker.execute("ROLLBACK")
        #expect(try await test.log.change(id: first)?.status == .pending)
        #expect(try await test.log.change(id: second)?.status == .pending)
        #expect(try await test.log.actions(forChange: first).map(\.action) == [.ingested])
    }
}
