import AuditLog
import Foundation
import StreamModel
import Testing

/// Where an audit log's time goes (``AuditLog/storeCounters()``), as the benchmark reports it per
/// worker, and the due re-read a fleet worker makes each round.
@Suite("Store counters")
struct StoreCountersTests {
    @Test("each method's calls, statements and time are counted under its own name", arguments: StoreBackend.allCases)
    func callsAreCounted(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let ids = try await test.log.ingest([Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)])], at: Fixture.t0)[0]
            .storedChangeIDs
        let before = await test.log.storeCounters()
        var step = EngineCommit()
        step.settlements = ids.map {
            Settlement(TransitionRequest($0, to: .applied, action: ActionEntry(action: .applied, outcome: "applied")))
        }
        _ = try await test.log.commit(step, at: Fixture.t0)
        _ = try await test.log.commit(EngineCommit(), at: Fixture.t0)
        _ = try await test.log.documentFacts(["42"], now: Fixture.t0)
        let spent = await test.log.storeCounters().since(before)

        let commit = try #require(spent.calls["commit(_:at:fence:claims:)"], "\(spent.calls.keys.sorted())")
        #expect(commit.count == 2)
        // Two commits: BEGIN and COMMIT (on PostgreSQL the lock too), the read of the moved changes,
        // their update and the actions' insert.
        #expect(commit.statementCount >= 5, "\(commit)")
        #expect(commit.statements > .zero && commit.statements <= commit.total, "\(commit)")
        #expect(spent.calls["documentFacts(_:now:)"]?.count == 1)
        // The ingest before the snapshot is not in the difference; nothing but what was called is.
        #expect(Set(spent.calls.keys) == ["commit(_:at:fence:claims:)", "documentFacts(_:now:)"])
        #expect(spent.allCalls.count == 3)
        if backend == .postgres {
            // Each statement is one round trip; the actions went as one JSON parameter.
            #expect(spent.allCalls.statementCount == spent.roundTrips)
            #expect(commit.encoding > .zero)
        }
    }

    @Test(
        "the due changes of named documents: the newest one's new image only, no old images",
        arguments: StoreBackend.allCases)
    func dueChangesOfDocumentsAreLean(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let newest = Fixture.change(3, event: .modify)
        #expect(newest.oldImage != nil && newest.newImage != nil)
        let other = Fixture.change(4, document: "7")
        _ = try await test.log.ingest(
            [Fixture.message("m-1", [Fixture.change(1), newest, Fixture.change(2), other])], at: Fixture.t0)
        let due = try await test.log.dueChanges(documentIDs: ["42", "7"], now: Fixture.t0)
        #expect(due.map(\.sequenceNumber) == [1, 2, 3, 4].map(Fixture.sequence))
        #expect(due.map(\.newImage) == [nil, nil, newest.newImage, other.newImage])
        #expect(due.allSatisfy { $0.oldImage == nil })
    }
}
