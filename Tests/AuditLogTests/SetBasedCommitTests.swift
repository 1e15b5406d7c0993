import AuditLog
import Foundation
import Testing

/// The write engine's commit made set-wise (``AuditLog/commit(_:at:fence:claims:)``): the moves of
/// a step are checked in order against the moves before them, exactly as one statement per move
/// did, and on PostgreSQL a step costs the same round trips whatever its size.
@Suite("Set-based commits")
struct SetBasedCommitTests {
    static func settlement(
        _ id: Int64, to: ChangeStatus, expecting: Set<ChangeStatus>? = nil, update: ChangeUpdate = .init(),
        note: String? = nil
    ) -> Settlement {
        Settlement(
            TransitionRequest(
                id, to: to, expecting: expecting, update: update,
                action: ActionEntry(action: to == .failed ? .failed : .applied, outcome: "to \(to.rawValue)")),
            noteIfRefused: note.map { ActionEntry(action: .conflict, outcome: $0) })
    }

    @Test("a step's moves are checked in order, each against the moves before it", arguments: StoreBackend.allCases)
    func movesInOrder(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let ids = try await test.log.ingest(
            [Fixture.message("m-1", [Fixture.change(1), Fixture.change(2, document: "7")])], at: Fixture.t0)[0].storedChangeIDs
        let due = Fixture.t0.addingTimeInterval(60)
        var step = EngineCommit()
        step.settlements = [
            // Pending → failed with an error, then failed → applied expecting failed (it is, after the first move).
            Self.settlement(
                ids[0], to: .failed, update: ChangeUpdate(attempts: 1, nextAttemptAt: .some(due), lastError: .some("boom"))),
            Self.settlement(ids[0], to: .applied, expecting: [.failed]),
            // Expects failed but is pending: refused, its note recorded instead; nothing else changes.
            Self.settlement(ids[1], to: .applied, expecting: [.failed], note: "moved elsewhere"),
            // Applied → failed is not a move the state machine allows.
            Self.settlement(ids[0], to: .failed),
        ]
        let result = try await test.log.commit(step, at: Fixture.t0)

        #expect(result.settlements.count == 4)
        #expect(try result.settlements[0].get() == .failed)
        #expect(try result.settlements[1].get() == .applied)
        #expect(throws: AuditLogError.self) { try result.settlements[2].get() }
        #expect(throws: AuditLogError.self) { try result.settlements[3].get() }
        let first = try #require(try await test.log.change(id: ids[0]))
        #expect(first.status == .applied)
        #expect(first.attempts == 1 && first.nextAttemptAt == due, "the second move keeps what the first set")
        #expect(first.lastError == "boom")
        let second = try #require(try await test.log.change(id: ids[1]))
        #expect(second.status == .pending && second.attempts == 0 && second.lastError == nil)
        #expect(try await test.log.actions(forChange: ids[0]).map(\.outcome).suffix(2) == ["to failed", "to applied"])
        #expect(try await test.log.actions(forChange: ids[1]).last?.outcome == "moved elsewhere")
        #expect(try await test.log.errorGroups(statuses: []).map(\.count) == [1], "the error is grouped as when it was set alone")
        #expect(try await test.log.verify().isIntact)
    }

    @Test(
        "a completion's intent is taken once, and a landed repair drops the older repairs it completes with",
        arguments: StoreBackend.allCases)
    func completionsInOrder(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let run = try await test.log.startReconcileRun(mode: .repair, actor: "alice", reason: nil, segments: 1, at: Fixture.t0)
        let ids = try await RepairIntentTests.intents(test.log, run: run.id, ["a", "a"])
        var step = EngineCommit()
        // The newer repair lands first: the older one of the same document is dropped, not recorded.
        step.completions = [
            RepairIntentTests.completion(ids[1], "a"), RepairIntentTests.completion(ids[0], "a"),
            RepairIntentTests.completion(ids[1], "a"),
        ]
        let result = try await test.log.commit(step, at: Fixture.t0)

        #expect(result.completions.map { $0 != nil } == [true, false, false])
        #expect(try await RepairIntentTests.reconciled(test.log).count == 1)
        #expect(try await RepairIntentTests.openRepairs(test.log, before: Fixture.t0).isEmpty)
    }

    @Test("on PostgreSQL an engine step costs the same round trips for one change as for a hundred")
    func roundTripsDoNotGrowWithTheStep() async throws {
        let test = try await TestLog(.postgres)
        let messages = (0..<101).map { n in Fixture.message("m-\(n)", [Fixture.change(n + 1, document: "d\(n)")]) }
        let ids = try await test.log.ingest(messages, at: Fixture.t0).flatMap(\.storedChangeIDs)

        /// The round trips of recording `changes`' writes as the engine does: the intents with a
        /// settlement each, then their completions with another.
        func roundTrips(_ changes: ArraySlice<Int64>) async throws -> (intents: Int, completions: Int) {
            var intents = EngineCommit()
            intents.newIntents = changes.map { id in
                NewWriteIntent(
                    documentID: "d\(id)", operation: .index, stampSequence: Fixture.sequence(Int(id)), stampAppliedAt: "t",
                    settlements: [])
            }
            intents.notes = changes.map { ($0, ActionEntry(action: .conflict, outcome: "noted")) }
            let start = await test.log.storeCounters().roundTrips
            let intentIDs = try await test.log.commit(intents, at: Fixture.t0).intentIDs
            let afterIntents = await test.log.storeCounters().roundTrips
            var completions = EngineCommit()
            completions.completions = zip(intentIDs, changes).map { intentID, change in
                IntentCompletion(intentID: intentID, settlements: [Self.settlement(change, to: .applied)])
            }
            let recorded = try await test.log.commit(completions, at: Fixture.t0)
            #expect(recorded.completions.allSatisfy { $0?.allSatisfy { (try? $0.get()) == .applied } == true })
            return (afterIntents - start, await test.log.storeCounters().roundTrips - afterIntents)
        }

        let one = try await roundTrips(ids[0..<1])
        let hundred = try await roundTrips(ids[1...])
        #expect(hundred.intents == one.intents, "intents of 100 changes: \(hundred.intents), of one: \(one.intents)")
        #expect(hundred.completions == one.completions, "completions of 100: \(hundred.completions), of one: \(one.completions)")
        #expect(one.intents <= 10 && one.completions <= 10, "\(one)")
        #expect(try await test.log.verify().isIntact)
    }
}
