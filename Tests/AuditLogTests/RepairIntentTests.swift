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
}
