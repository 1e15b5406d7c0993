import AuditLog
import Foundation
import StreamModel
import Testing

/// Reconcile repairs' write intents (migration 0006): every repair that landed gets exactly one
/// `reconciled` action, whether its run records it or a recovery does.
@Suite("Repair intents")
struct RepairIntentTests {
    /// Records repair intents as the write engine does (``AuditLog/commit(_:at:fence:claims:)``).
    static func intents(_ log: AuditLog, run: Int64, _ documents: [String], claims: DocumentClaims? = nil)
        async throws -> [Int64]
    {
        var step = EngineCommit()
        step.newIntents = documents.map {
            NewWriteIntent(
                documentID: $0, operation: .index, stampSequence: Fixture.sequence(1),
                stampAppliedAt: "2026-11-24T10:00:00.000Z", settlements: [],
                repair: RepairMark(runID: run, kind: "missing", actor: "alice", reason: nil))
        }
        return try await log.commit(step, at: Fixture.t0, claims: claims).intentIDs
    }

    static func completion(_ intentID: Int64, _ documentID: String) -> IntentCompletion {
        IntentCompletion(
            intentID: intentID, settlements: [],
            repairAction: ActionEntry(
                action: .reconciled, actor: "alice", outcome: "missing", response: "{\"documentId\": \"\(documentID)\"}"))
    }

    /// Records landed repairs (and drops intents) as the write engine does, live or recovering.
    /// - Returns: How many were recorded here (not already by another process).
    @discardableResult
    static func complete(
        _ log: AuditLog, _ completions: [IntentCompletion], dropping: [Int64] = [], claims: DocumentClaims? = nil
    ) async throws -> Int {
        var step = EngineCommit()
        step.completions = completions
        step.droppedIntents = dropping
        return try await log.commit(step, at: Fixture.t0, claims: claims).completions.filter { $0 != nil }.count
    }

    static func openRepairs(_ log: AuditLog, before: Date) async throws -> [WriteIntent] {
        try await log.openWriteIntents(recordedBefore: before, limit: 10).filter { $0.intent.repair != nil }
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
        #expect(
            try await test.log.openWriteIntents(recordedBefore: Fixture.t0, limit: 10).filter { $0.intent.repair == nil }
                .isEmpty, "not a change's intent")
        #expect(try await Self.openRepairs(test.log, before: Fixture.t0).map(\.id) == ids)

        let recovered = try await Self.complete(test.log, [Self.completion(ids[0], "a")])
        #expect(recovered == 1)
        // The run's own record of both: a is already recorded, so only b is.
        #expect(try await Self.complete(test.log, [Self.completion(ids[0], "a"), Self.completion(ids[1], "b")]) == 1)
        var page = ReconcileProgress(segment: 0, position: .done)
        page.scanned = 2
        let after = try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)

        #expect(after.repaired == 2 && after.found["missing"] == 2, "\(after)")
        #expect(Set(after.samples["missing"] ?? []) == ["a", "b"])
        let actions = try await Self.reconciled(test.log)
        #expect(actions.count == 2, "one action per repair")
        #expect(try await Self.openRepairs(test.log, before: Fixture.t0).isEmpty)
        #expect(
            try await Self.complete(test.log, [Self.completion(ids[1], "b")]) == 0,
            "a repair its run recorded is not recovered again")
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
        try await Self.complete(test.log, [Self.completion(newer[0], "a")], dropping: [older[1]])
        #expect(try await Self.openRepairs(test.log, before: Fixture.t0).isEmpty)
        #expect(try await Self.reconciled(test.log).count == 1)
    }

    @Test("on a shared store, repair intents, a reconcile page and recovered repairs are recorded only under held claims")
    func claimsFenceRepairRecords() async throws {
        let test = try await TestLog(.postgres)
        let run = try await test.log.startReconcileRun(mode: .repair, actor: "alice", reason: "r", segments: 1, at: Fixture.t0)
        let mine = try await test.log.claimDocuments(["a", "b"], holder: "worker-1", ttl: .seconds(300), now: Date())
        #expect(mine.holds("a") && mine.holds("b"))
        // An intent for a document the claims do not include is refused, and so nothing is recorded.
        await #expect(throws: AuditLogError.self) {
            try await Self.intents(test.log, run: run.id, ["a", "c"], claims: mine)
        }
        #expect(try await Self.openRepairs(test.log, before: Date()).isEmpty)
        let ids = try await Self.intents(test.log, run: run.id, ["a", "b"], claims: mine)
        #expect(ids.count == 2)

        // Another worker takes document b over once worker-1's claim expired (here: released).
        try await test.log.releaseClaims(DocumentClaims(holder: "worker-1", epochs: ["b": mine.epochs["b"]!]))
        let theirs = try await test.log.claimDocuments(["b"], holder: "worker-2", ttl: .seconds(300), now: Date())
        #expect(theirs.holds("b"))

        var page = ReconcileProgress(segment: 0, position: .done)
        page.scanned = 2
        do {
            // The repairs are recorded before their page; the page is recorded only after them.
            try await Self.complete(test.log, [Self.completion(ids[0], "a"), Self.completion(ids[1], "b")], claims: mine)
            try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)
            Issue.record("repairs whose claim was taken over were recorded")
        } catch let error as AuditLogError {
            #expect(error.code == .leaseLost)
            #expect(error.description.contains("document b"), "\(error)")
        }
        let unchanged = try #require(try await test.log.reconcileRuns(limit: 1).first)
        #expect(unchanged.scanned == 0 && unchanged.repaired == 0 && unchanged.positions == [.start], "\(unchanged)")
        #expect(try await Self.reconciled(test.log).isEmpty)
        #expect(try await Self.openRepairs(test.log, before: Date()).count == 2, "both left for recovery")

        // Recovery is fenced the same way: worker-1 may not record b; worker-2 may.
        await #expect(throws: AuditLogError.self) {
            try await Self.complete(test.log, [Self.completion(ids[1], "b")], claims: mine)
        }
        #expect(try await Self.complete(test.log, [Self.completion(ids[1], "b")], claims: theirs) == 1)

        // Repairs under claims still held are recorded, then their page.
        try await Self.complete(
            test.log, [Self.completion(ids[0], "a")],
            claims: DocumentClaims(holder: "worker-1", epochs: ["a": mine.epochs["a"]!]))
        let after = try await test.log.recordReconcileProgress(runID: run.id, page, at: Fixture.t0)
        #expect(after.repaired == 2 && after.scanned == 2, "\(after)")
        let documents = try await Self.reconciled(test.log).compactMap {
            $0.response.flatMap { try? JSONValue(parsing: $0) }?["documentId"]?.stringValue
        }
        #expect(documents.sorted() == ["a", "b"])
        #expect(try await test.log.verify().isIntact)
    }
}
