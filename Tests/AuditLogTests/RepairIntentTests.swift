import AuditLog
import Foundation
import StreamModel
import Testing

/// Reconcile repairs' write intents (migration 0006): every repair that landed gets exactly one
/// `reconciled` action, whether its run records it or a recovery does.
@Suite("Repair intents")
struct RepairIntentTests {
    static func intents(_ log: AuditLog, run: Int64, _ documents: [String]) async throws -> [Int64] {
        try await log.recordRepairIntents(
            documents.map {
                RepairIntent(
                    runID: run, documentID: $0, kind: "missing", operation: .index, stampSequence: Fixture.sequence(1),
                    stampAppliedAt: "2026-11-24T10:00:00.000Z")
            }, at: Fixture.t0)
    }

    static func completion(_ intentID: Int64, run: Int64, _ documentID: String) -> RepairCompletion {
        RepairCompletion(
            intentID: intentID, runID: run, documentID: documentID, kind: "missing",
            action: ActionEntry(
                action: .reconciled, actor: "alice", outcome: "missing", response: "{\"documentId\": \"\(documentID)\"}"))
    }

    static func reconciled(_ log: AuditLog) async throws -> [ActionRecord] {
        try await log.listActions(ActionFilter(actions: [.reconciled]), after: nil, limit: 100).rows
    }

    @Test(
        "a repair recovered elsewhere is neither recorded nor counted again by its run's page", arguments: StoreBackend.allCases)
    func recoveredThenPageCommitted(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let run = try await test.log.startReconcileRun(mode: .repair, actor: "alice", reason: "r", segments: 1, at: Fixture.t0)
        let ids = try await Self.intents(test.log, run: run.id, ["a", "b"])
        #expect(try await test.log.openWriteIntents(recordedBefore: Fixture.t0, limit: 10).isEmpty, "not a change's intent")
        #expect(try await test.log.openRepairIntents(recordedBefore: Fixture.t0, limit: 10).map(\.id) == ids)

        let recovered = try await test.log.recordRecoveredRepairs(
            [Self.completion(ids[0], run: run.id, "a")], dropping: [], at: Fixture.t0)
        #expect(recovered == 1)
        var page = ReconcileProgress(segment: 0, position: .done)
        page.scanned = 2
        page.found = ["missing": ["a", "b"]]
        page.repairs = [Self.completion(ids[0], run: run.id, "a"), Self.completion(ids[1], run: run.id, "b")]
        let after = try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)

        #expect(after.repaired == 2 && after.found["missing"] == 2, "\(after)")
        #expect(Set(after.samples["missing"] ?? []) == ["a", "b"])
        let actions = try await Self.reconciled(test.log)
        #expect(actions.count == 2, "one action per repair")
        #expect(try await test.log.openRepairIntents(recordedBefore: Fixture.t0, limit: 10).isEmpty)
        #expect(
            try await test.log.recordRecoveredRepairs([Self.completion(ids[1], run: run.id, "b")], dropping: [], at: Fixture.t0)
                == 0, "a repair its run recorded is not recovered again")
        #expect(try await Self.reconciled(test.log).count == 2)
    }

    @Test(
        "a landed repair drops the older repair intents of its document; dropped intents leave no action",
        arguments: StoreBackend.allCases)
    func newerRepairDropsOlderIntents(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let run = try await test.log.startReconcileRun(mode: .repair, actor: "alice", reason: "r", segments: 1, at: Fixture.t0)
        let older = try await Self.intents(test.log, run: run.id, ["a", "c"])
        let newer = try await Self.intents(test.log, run: run.id, ["a"])
        var page = ReconcileProgress(segment: 0, position: .done)
        page.found = ["missing": ["a"]]
        page.repairs = [Self.completion(newer[0], run: run.id, "a")]
        page.droppedIntents = [older[1]]
        try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)
        #expect(try await test.log.openRepairIntents(recordedBefore: Fixture.t0, limit: 10).isEmpty)
        #expect(try await Self.reconciled(test.log).count == 1)
    }

    @Test("on a shared store, repair intents, a reconcile page and recovered repairs are recorded only under held claims")
    func claimsFenceRepairRecords() async throws {
        let test = try await TestLog(.postgres)
        let run = try await test.log.startReconcileRun(mode: .repair, actor: "alice", reason: "r", segments: 1, at: Fixture.t0)
        let mine = try await test.log.claimDocuments(["a", "b"], holder: "worker-1", ttl: .seconds(300), now: Date())
        #expect(mine.holds("a") && mine.holds("b"))
        let intent = { (document: String) in
            RepairIntent(
                runID: run.id, documentID: document, kind: "missing", operation: .index, stampSequence: Fixture.sequence(1),
                stampAppliedAt: "2026-11-24T10:00:00.000Z")
        }

        // An intent for a document the claims do not include is refused, and so nothing is recorded.
        await #expect(throws: AuditLogError.self) {
            try await test.log.recordRepairIntents([intent("a"), intent("c")], at: Fixture.t0, claims: mine)
        }
        #expect(try await test.log.openRepairIntents(recordedBefore: Date(), limit: 10).isEmpty)
        let ids = try await test.log.recordRepairIntents([intent("a"), intent("b")], at: Fixture.t0, claims: mine)
        #expect(ids.count == 2)

        // Another worker takes document b over once worker-1's claim expired (here: released).
        try await test.log.releaseClaims(DocumentClaims(holder: "worker-1", epochs: ["b": mine.epochs["b"]!]))
        let theirs = try await test.log.claimDocuments(["b"], holder: "worker-2", ttl: .seconds(300), now: Date())
        #expect(theirs.holds("b"))

        var page = ReconcileProgress(segment: 0, position: .done)
        page.scanned = 2
        page.found = ["missing": ["a", "b"]]
        page.repairs = [Self.completion(ids[0], run: run.id, "a"), Self.completion(ids[1], run: run.id, "b")]
        page.claims = mine
        do {
            try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)
            Issue.record("a page whose claim was taken over was recorded")
        } catch {
            #expect(error.code == .leaseLost)
            #expect(error.description.contains("document b"), "\(error)")
        }
        let unchanged = try #require(try await test.log.reconcileRuns(limit: 1).first)
        #expect(unchanged.scanned == 0 && unchanged.repaired == 0 && unchanged.positions == [.start], "\(unchanged)")
        #expect(try await Self.reconciled(test.log).isEmpty)
        #expect(try await test.log.openRepairIntents(recordedBefore: Date(), limit: 10).count == 2, "both left for recovery")

        // Recovery is fenced the same way: worker-1 may not record b; worker-2 may.
        await #expect(throws: AuditLogError.self) {
            try await test.log.recordRecoveredRepairs(
                [Self.completion(ids[1], run: run.id, "b")], dropping: [], at: Fixture.t0, claims: mine)
        }
        #expect(
            try await test.log.recordRecoveredRepairs(
                [Self.completion(ids[1], run: run.id, "b")], dropping: [], at: Fixture.t0, claims: theirs) == 1)

        // A page under claims still held is recorded.
        page.repairs = [Self.completion(ids[0], run: run.id, "a")]
        page.claims = DocumentClaims(holder: "worker-1", epochs: ["a": mine.epochs["a"]!])
        let after = try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)
        #expect(after.repaired == 2 && after.scanned == 2, "\(after)")
        let documents = try await Self.reconciled(test.log).compactMap {
            $0.response.flatMap { try? JSONValue(parsing: $0) }?["documentId"]?.stringValue
        }
        #expect(documents.sorted() == ["a", "b"])
        #expect(try await test.log.verify().isIntact)
    }
}
