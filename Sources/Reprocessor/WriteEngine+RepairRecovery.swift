import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

extension WriteEngine {
    /// Resolves reconcile repairs left unrecorded by a run that stopped between a repair's write
    /// and its record (killed): a repair search shows is recorded now, its `reconciled` action
    /// marked `"recovered": true` and counted in its run; an intent whose write search does not
    /// show is dropped once it is older than the grace period. On a shared store only the
    /// intents of documents this worker can claim are resolved: another worker's claim means
    /// its reconcile may still be sending or recording that repair.
    /// - Returns: How many interrupted repairs were found and recorded.
    /// - Throws: `OpenSearchError` when search cannot be read; audit-log errors.
    func recoverInterruptedRepairs(now: Date) async throws -> Int {
        let open = try await auditLog.openRepairIntents(recordedBefore: now, limit: 1000)
        guard !open.isEmpty else { return 0 }
        return try await withClaims(open.map(\.intent.documentID)) { claims in
            let intents = claims.map { claims in open.filter { claims.holds($0.intent.documentID) } } ?? open
            return try await recoverRepairs(intents, now: now, claims: claims)
        }
    }

    /// Resolves `intents` (see ``recoverInterruptedRepairs(now:)``), under `claims` on a shared store.
    private func recoverRepairs(_ intents: [OpenRepairIntent], now: Date, claims: DocumentClaims?) async throws -> Int {
        guard !intents.isEmpty else { return 0 }
        let live = try await openSearch.multiGet(index: index, ids: Array(Set(intents.map(\.intent.documentID))))
        var completions: [RepairCompletion] = []
        var dropped: [Int64] = []
        for open in intents {
            let intent = open.intent
            let document = live[intent.documentID]
            guard
                Self.landed(
                    intent.operation, stampSequence: intent.stampSequence, stampAppliedAt: intent.stampAppliedAt,
                    live: document)
            else {
                if open.createdAt.addingTimeInterval(intentGrace) < now { dropped.append(open.id) }
                continue
            }
            let response = Reconciliation.repairResponse(
                runID: intent.runID, documentID: intent.documentID, kind: intent.kind, written: document?.source ?? .null,
                seqNo: document?.seqNo, extra: ["recovered": .bool(true)])
            completions.append(
                RepairCompletion(
                    intentID: open.id, runID: intent.runID, documentID: intent.documentID, kind: intent.kind,
                    action: Reconciliation.repairAction(
                        kind: intent.kind, deleted: intent.operation == .delete, actor: open.actor, reason: open.reason,
                        response: response)))
            logger.notice(
                "recorded an interrupted reconcile repair found in search",
                metadata: ["documentId": "\(intent.documentID)", "intentId": "\(open.id)", "reconcileRun": "\(intent.runID)"])
        }
        guard !completions.isEmpty || !dropped.isEmpty else { return 0 }
        return try await auditLog.recordRecoveredRepairs(completions, dropping: dropped, at: Date(), claims: claims)
    }

    /// Whether search shows `write` (see ``landed(_:stampSequence:stampAppliedAt:live:)``): for a
    /// 409 that may be this write refused when sent again after an attempt that landed.
    static func landed(_ write: PlannedWrite, live: OpenSearchDocument?) -> Bool {
        landed(write.intentOperation, stampSequence: write.stampSequence, stampAppliedAt: write.stampAppliedAt, live: live)
    }

    /// Whether search shows an intended write: an index write's stamp (sequence and `appliedAt`,
    /// unique to the write), or a delete's absence.
    static func landed(
        _ operation: WriteIntent.Operation, stampSequence: SequenceNumber?, stampAppliedAt: String?,
        live: OpenSearchDocument?
    ) -> Bool {
        switch operation {
        case .index:
            let facts = DocumentFacts(live: live)
            return facts.liveSequence == stampSequence && facts.liveAppliedAt == stampAppliedAt
        case .delete:
            return live == nil
        }
    }
}
