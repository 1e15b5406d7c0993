import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

extension WriteEngine {
    // MARK: Record

    /// What a round's outcomes come to before they are recorded.
    struct RoundOutcomes {
        /// What the record transaction commits.
        var commit = EngineCommit()
        /// The writes that landed, in the order of `commit.completions`.
        var completed: [Outgoing] = []
        /// Replayed changes whose write search refused for their document's own reason.
        var failedDecisions: [ChangeDecision] = []
        /// Documents to decide again: a 409 from another writer.
        var again: [DocumentWork] = []
        /// Documents search refused for now (429, 5xx).
        var refusedForNow: [DocumentWork] = []
        /// What stops the execution, in this order: a request that failed whole, a failed
        /// re-read after a 409, a block.
        var requestError: OpenSearchError?
        var rereadError: (any Error)?
        var blocked: String?
    }

    /// Records every outcome of a round in one transaction: completed intents with their
    /// moves (a repair's with its `reconciled` action), dropped intents, failed tries; the
    /// intents whose outcome is unknown stay open. Then stops the execution when search as a
    /// whole failed.
    /// - Returns: The documents to decide again next round.
    func record(
        _ outgoing: [Outgoing], _ resolutions: [Resolution], context: WritePlanner.Context, claims: DocumentClaims?,
        into execution: inout Execution
    ) async throws -> [DocumentWork] {
        var outcomes = tally(outgoing, resolutions, context: context, into: &execution)
        outcomes.commit.settlements = outcomes.failedDecisions.compactMap { $0.transition.map { Settlement($0) } }
        let done = try await auditLog.commit(outcomes.commit, at: clock(), fence: fence, claims: claims)
        execution.writes += outcomes.completed.count
        for (decision, result) in zip(outcomes.failedDecisions, done.settlements) {
            execution.results[decision.change.id] = try await self.result(decision, result)
        }
        for (write, results) in zip(outcomes.completed, done.completions) {
            try await report(write, results, into: &execution)
        }
        if let error = outcomes.requestError {
            ReprocessorMetrics.recordFailure(error)
            execution.stop("writing to search failed: \(error)", cause: error)
        } else if let error = outcomes.rereadError {
            ReprocessorMetrics.recordFailure(error)
            execution.stop("reading search after a 409 failed: \(error)", cause: error)
        } else if let blocked = outcomes.blocked {
            execution.stop(blocked)
        } else if outcomes.completed.isEmpty && outcomes.again.isEmpty && !outcomes.refusedForNow.isEmpty
            && outcomes.failedDecisions.isEmpty
        {
            execution.stop("search refused every write of a batch for now (429 or 5xx)")
        } else {
            return outcomes.again + outcomes.refusedForNow
        }
        return []
    }

    /// Tallies a round's resolutions into what to record and what comes next; marks the changes
    /// left due.
    func tally(
        _ outgoing: [Outgoing], _ resolutions: [Resolution], context: WritePlanner.Context, into execution: inout Execution
    ) -> RoundOutcomes {
        var outcomes = RoundOutcomes()
        for (write, resolution) in zip(outgoing, resolutions) {
            let work = write.work
            switch resolution {
            case .landed(let landing):
                outcomes.commit.completions.append(completion(write, landing))
                outcomes.completed.append(write)
                continue
            case .unknown(let error):
                // Whether it landed is unknown: the intent stays open for the next recovery.
                outcomes.requestError = error
                markUnavailable([work], "writing to search failed: \(error)", in: &execution)
                continue
            case .unread(let error):
                outcomes.rereadError = error
                markUnavailable([work], "reading search after a 409 failed: \(error)", in: &execution)
                continue
            default:
                // Refused: nothing was written, so the intent goes.
                outcomes.commit.droppedIntents.append(write.intentID)
            }
            if work.repairOrder != nil {
                refuseRepair(work, resolution, into: &execution)
                continue
            }
            switch resolution {
            case .conflict:
                outcomes.again.append(work)
            case .refusedForNow(let status):
                outcomes.refusedForNow.append(work)
                markUnavailable([work], "search refused the write for now (\(status))", in: &execution)
            case .blocked(let line):
                outcomes.blocked = line
                markUnavailable([work], line, in: &execution)
            case .documentError(let message):
                // The document's own error: it counts toward parking.
                for decision in write.decisions {
                    if case .replay = work {
                        outcomes.failedDecisions.append(planner.failure(decision.change, message, context))
                    } else {
                        execution.results[decision.change.id] = OperationResult(
                            id: decision.change.id, outcome: .failed, status: decision.change.status, message: message)
                    }
                }
            case .landed, .unknown, .unread:
                break
            }
        }
        return outcomes
    }

    /// A repair search refused: a 409 from another writer is a conflict (decided again by the
    /// next run, not this one); any other refusal is a failed repair.
    private func refuseRepair(_ work: DocumentWork, _ resolution: Resolution, into execution: inout Execution) {
        let line: String
        switch resolution {
        case .conflict:
            execution.repairs[work.documentID] = .conflict
            logger.info(
                "reconcile: search changed under the document; not repaired", metadata: ["documentId": "\(work.documentID)"])
            return
        case .refusedForNow(let status): line = "search refused the write for now (\(status))"
        case .blocked(let reason), .documentError(let reason): line = reason
        case .landed, .unknown, .unread: return
        }
        execution.repairs[work.documentID] = .failed
        logger.warning("reconcile: repair refused: \(line)", metadata: ["documentId": "\(work.documentID)"])
    }

    /// The completion of a write that landed: its decisions' moves carrying search's answer, or
    /// a repair's `reconciled` action.
    func completion(_ write: Outgoing, _ landing: Landing) -> IntentCompletion {
        if let order = write.work.repairOrder, let drift = write.drift {
            let (seqNo, answer): (Int64?, [String: JSONValue]) =
                switch landing {
                case .answered(let item):
                    (item.seqNo, ["status": .number(String(item.status)), "result": item.result.map(JSONValue.string) ?? .null])
                case .foundAfterConflict(let document):
                    (document?.seqNo, ["status": .number("409"), "result": .string("landed by an earlier attempt")])
                }
            return Self.repairCompletion(
                intentID: write.intentID, documentID: write.work.documentID,
                mark: RepairMark(runID: order.runID, kind: drift.rawValue, actor: order.actor, reason: order.reason),
                written: write.write.written, seqNo: seqNo, answer: answer)
        }
        let response: String
        switch landing {
        case .answered(let item): response = WritePlanner.response(written: write.write.written, item: item)
        case .foundAfterConflict(let document):
            response = WritePlanner.response(written: write.write.written, recovered: true, document: document)
        }
        let settlements = Self.carryingResponse(write.decisions.compactMap { $0.transition.map { Settlement($0) } }, response)
        return IntentCompletion(intentID: write.intentID, settlements: settlements)
    }

    /// The results of a recorded completion: as planned, or recorded by another process that found the write.
    private func report(_ write: Outgoing, _ results: [Result<ChangeStatus, AuditLogError>]?, into execution: inout Execution)
        async throws
    {
        if write.work.repairOrder != nil {
            execution.repairs[write.work.documentID] = results == nil ? .repairedElsewhere : .repaired
            return
        }
        for (index, decision) in write.decisions.enumerated() {
            if let results {
                execution.results[decision.change.id] = try await self.result(decision, results[index])
            } else {
                let current = try await auditLog.change(id: decision.change.id)
                execution.results[decision.change.id] = OperationResult(
                    id: decision.change.id, outcome: decision.outcome, status: current?.status,
                    message: "\(decision.message) (recorded by another process that found the write)")
            }
        }
    }

    /// A landed repair's completion: its `reconciled` action, whose response names the run, the
    /// document (which `history` finds it by), the kind, what was written (null for a delete),
    /// the new `_seq_no` and search's `answer`.
    static func repairCompletion(
        intentID: Int64, documentID: String, mark: RepairMark, written: JSONValue, seqNo: Int64?,
        answer: [String: JSONValue]
    ) -> IntentCompletion {
        var members: [String: JSONValue] = [
            "reconcileRun": .number(String(mark.runID)), "documentId": .string(documentID), "kind": .string(mark.kind),
            "written": written, "seqNo": seqNo.map { .number(String($0)) } ?? .null,
        ]
        members.merge(answer) { _, new in new }
        let action = ActionEntry(
            action: .reconciled, actor: mark.actor, reason: mark.reason,
            outcome: written == .null
                ? "\(mark.kind): deleted the document, the table has no item"
                : "\(mark.kind): wrote the table's current item (table copy)",
            response: JSONValue.object(members).serialized)
        return IntentCompletion(intentID: intentID, settlements: [], repairAction: action)
    }
}
