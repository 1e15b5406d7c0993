import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

extension WriteEngine {
    /// Resolves write intents left open by a pass, a request or a reconcile run that stopped
    /// between a write and its record (killed, or its recording lost a race): a write search
    /// shows is recorded now, with its actions (a repair's `reconciled` action marked
    /// `"recovered": true` and counted in its run); an intent whose write search does not show
    /// is dropped once it is older than the grace period (its writer may still be sending it
    /// until then). In a fleet, an open intent may be a live worker's write in flight: only the
    /// documents this worker can claim (free, or their holder's claim expired) are resolved here.
    /// - Returns: How many interrupted writes were found and recorded.
    /// - Throws: `OpenSearchError` when search cannot be read; audit-log errors.
    func recoverInterruptedWrites(now: Date) async throws -> Int {
        let intents = try await auditLog.openWriteIntents(recordedBefore: now, limit: 1000)
        guard !intents.isEmpty else { return 0 }
        return try await withClaims(intents.map(\.intent.documentID)) { claims in
            try await recover(
                claims.map { claims in intents.filter { claims.holds($0.intent.documentID) } } ?? intents, now: now,
                claims: claims)
        }
    }

    /// ``recoverInterruptedWrites(now:)`` for `intents`, whose documents this worker holds.
    private func recover(_ intents: [WriteIntent], now: Date, claims: DocumentClaims?) async throws -> Int {
        guard !intents.isEmpty else { return 0 }
        let live = try await search.multiGet(index: index, ids: Array(Set(intents.map(\.intent.documentID))))
        return try await record(intents, live: live, now: now, dropping: true, claims: claims)
    }

    /// Records the open intents of `live`'s documents whose writes search shows, before a round
    /// decides those documents again: a write whose answer was lost (its writer left its intent
    /// open) is recorded now, while search still shows it, instead of being overwritten by this
    /// round and dropped by a later recovery as never landed. Found by the simulation (seeds 56
    /// and 107): an operator's resync timed out after landing, a replay round overwrote it, and
    /// the resync's write was left with no action.
    func recordShownWrites(_ documentIDs: [String], live: [String: OpenSearchDocument], claims: DocumentClaims?)
        async throws
    {
        #if DEBUG
            if EngineMutation.on(.skipShownWrites) { return }
        #endif
        let now = clock()
        let documents = Set(documentIDs)
        // Whenever recorded, by whichever clock: a write search shows has landed.
        let intents = try await auditLog.openWriteIntents(recordedBefore: .distantFuture, limit: 1000).filter {
            documents.contains($0.intent.documentID) && claims?.holds($0.intent.documentID) != false
        }
        guard !intents.isEmpty else { return }
        _ = try await record(intents, live: live, now: now, dropping: false, claims: claims)
    }

    /// Records the writes of `intents` that `live` shows; with `dropping`, drops those it does not
    /// show once they are older than the grace period.
    /// - Returns: How many were recorded here.
    private func record(
        _ intents: [WriteIntent], live: [String: OpenSearchDocument], now: Date, dropping: Bool, claims: DocumentClaims?
    ) async throws -> Int {
        var commit = EngineCommit()
        for open in intents {
            let intent = open.intent
            let document = live[intent.documentID]
            guard
                Self.landed(
                    intent.operation, stampSequence: intent.stampSequence, stampAppliedAt: intent.stampAppliedAt,
                    live: document)
            else {
                if dropping, open.createdAt.addingTimeInterval(intentGrace) < now { commit.droppedIntents.append(open.id) }
                continue
            }
            var metadata: Logger.Metadata = ["documentId": "\(intent.documentID)", "intentId": "\(open.id)"]
            if let repair = intent.repair {
                commit.completions.append(
                    Self.repairCompletion(
                        intentID: open.id, documentID: intent.documentID, mark: repair, written: document?.source ?? .null,
                        seqNo: document?.seqNo, answer: ["recovered": .bool(true)]))
                metadata["reconcileRun"] = "\(repair.runID)"
            } else {
                let response = JSONValue.object([
                    "written": document?.source ?? .null, "recovered": .bool(true),
                    "seqNo": document.map { .number(String($0.seqNo)) } ?? .null,
                ]).serialized
                commit.completions.append(
                    IntentCompletion(intentID: open.id, settlements: Self.carryingResponse(intent.settlements, response)))
            }
            logger.notice(
                "recorded an interrupted \(intent.repair == nil ? "write" : "reconcile repair") found in search",
                metadata: metadata)
        }
        guard !commit.isEmpty else { return 0 }
        let committed = try await auditLog.commit(commit, at: clock(), fence: fence, claims: claims)
        return committed.completions.filter { $0 != nil }.count
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

    /// Repairs drifted documents for a reconcile run, as one more kind of document work: each is
    /// decided again from search, the table and the audit log by the ``Reconciler``, then its
    /// intent recorded, its write sent, classified and recorded (its `reconciled` action counted
    /// in the run) like any other write. In a fleet a document another worker holds is left to it
    /// (``RepairResult/conflict``).
    /// - Parameters:
    ///   - documentIDs: The drifted documents.
    ///   - order: The run, its actor and reason.
    ///   - beforeWriting: Awaited with the number of repairs about to be written (reconcile's pacing).
    /// - Returns: What became of each repair (``Execution/repairs``); ``Execution/failure`` when
    ///   search or the table failed.
    func repair(
        _ documentIDs: [String], for order: RepairOrder, beforeWriting: (@Sendable (Int) async -> Void)?
    ) async throws -> Execution {
        try await execute(
            documentIDs.map { .repair(documentID: $0, order) },
            context: WritePlanner.Context(actor: order.actor, reason: order.reason, now: clock()), dryRun: false,
            beforeWriting: beforeWriting)
    }
}
