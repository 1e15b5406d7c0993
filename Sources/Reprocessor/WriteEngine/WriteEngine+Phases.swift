import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel

/// One round of the executor, as named phases: gather (search, the audit log), plan (the
/// table when a planner asks), record intents, send (one `_bulk`), classify (each item, and a
/// re-read of search after 409s), record (every outcome in one transaction).
extension WriteEngine {
    /// One document as planned: the write to send, if any, and the decisions it settles.
    struct PlannedDocument {
        var work: DocumentWork
        var write: PlannedWrite?
        var decisions: [ChangeDecision]
        /// The drift a repair repairs (nil for a change's work).
        var drift: DriftKind?
    }

    /// A write about to be sent, with the id of its recorded intent.
    struct Outgoing {
        var work: DocumentWork
        var write: PlannedWrite
        /// The decisions that settle once the write lands.
        var decisions: [ChangeDecision]
        var drift: DriftKind?
        var intentID: Int64 = 0
    }

    /// What became of a sent write, once classified (``WriteOutcome``) and a 409 re-read.
    enum Resolution {
        /// Search has it: answered, or found after a 409 (an earlier attempt landed it).
        case landed(Landing)
        /// 409, and search shows another writer's change: nothing written.
        case conflict
        /// 429 or 5xx on the item.
        case refusedForNow(status: Int)
        /// Search refuses writes as a whole.
        case blocked(String)
        /// The document's own error.
        case documentError(String)
        /// The request failed whole: whether it landed is unknown, its intent stays open.
        case unknown(OpenSearchError)
        /// Search could not be read after a 409: whether it landed is unknown, its intent stays open.
        case unread(any Error)
    }

    /// How a write is known to have landed.
    enum Landing {
        /// Search's answer to the write.
        case answered(BulkItemResult)
        /// Found in search after a 409 (the document as read).
        case foundAfterConflict(OpenSearchDocument?)
    }

    /// The facts a round gathered, by document.
    struct RoundFacts {
        var facts: [String: DocumentFacts] = [:]
        /// The newest sequence number the audit log knows for each repaired document.
        var known: [String: SequenceNumber] = [:]
    }

    /// One round over `pending`: the phases in order.
    /// - Returns: The documents to decide again next round (409 from another writer, refused for now).
    func round(
        _ pending: [DocumentWork], number: Int, context: WritePlanner.Context, dryRun: Bool, handoff: RoundHandoff?,
        claims: DocumentClaims?, beforeWriting: (@Sendable (Int) async -> Void)?, into execution: inout Execution
    ) async throws -> [DocumentWork] {
        var timings = RoundTimings()
        guard
            let facts = try await gather(
                pending, context: context, dryRun: dryRun, claims: claims, timings: &timings, into: &execution)
        else { return [] }
        // A dry run writes nothing, and carries changes as the command would have moved them.
        let current = dryRun ? pending : try await unmoved(pending, into: &execution)
        let planned = await plan(
            current, facts: facts, context: context, handoff: handoff, timings: &timings, into: &execution)
        handoff?.finish()
        if dryRun {
            for document in planned {
                for decision in document.decisions {
                    execution.results[decision.change.id] = Self.dryRunResult(decision, work: document.work)
                }
            }
            return []
        }
        let repairing = planned.contains { $0.work.repairOrder != nil && $0.write != nil }
        let writeCount = planned.filter { $0.write != nil }.count
        if writeCount > 0 { await beforeWriting?(writeCount) }
        if repairing { await TestPause.at(.reconcileBeforeWrite, logger: logger) }
        let outgoing = try await recordIntents(planned, claims: claims, timings: &timings, into: &execution)
        guard !outgoing.isEmpty else { return [] }
        if !repairing { await TestPause.at(.beforeWrite, logger: logger) }
        let answers = try await search.bulkSettled(index: index, operations: outgoing.map(\.write.operation), refresh: .none)
        timings.lap(\.write)
        await TestPause.at(repairing ? .reconcileAfterWriteBeforeRecord : .afterWriteBeforeRecord, logger: logger)
        let resolutions = await classify(outgoing, answers)
        let next = try await record(outgoing, resolutions, context: context, claims: claims, into: &execution)
        timings.lap(\.recordOutcomes)
        logger.debug(
            "round \(number) of \(pending.count) documents: \(timings)",
            metadata: ["writes": "\(outgoing.count)"])
        return next
    }

    // MARK: Gather

    /// Reads search (one `_mget`) and the audit log for `works`; nil when search cannot be read
    /// (the works are then marked unavailable and the execution stopped). Unless a dry run, first
    /// records the open intents whose writes search shows (``recordShownWrites(_:live:claims:)``).
    func gather(
        _ works: [DocumentWork], context: WritePlanner.Context, dryRun: Bool, claims: DocumentClaims?,
        timings: inout RoundTimings, into execution: inout Execution
    ) async throws -> RoundFacts? {
        let ids = works.map(\.documentID)
        let live: [String: OpenSearchDocument]
        do {
            live = try await search.multiGet(index: index, ids: ids)
        } catch {
            ReprocessorMetrics.recordFailure(error)
            let outage = "reading search failed: \(error)"
            execution.stop(outage, cause: error)
            markUnavailable(works, outage, in: &execution)
            return nil
        }
        timings.lap(\.searchRead)
        if !dryRun { try await recordShownWrites(ids, live: live, claims: claims) }
        let repaired = works.filter { $0.repairOrder != nil }.map(\.documentID)
        let audit = try await auditLog.documentFacts(
            works.filter { $0.repairOrder == nil }.map(\.documentID), now: context.now)
        var facts = RoundFacts(known: try await auditLog.newestKnownSequences(repaired))
        timings.lap(\.auditRead)
        for id in ids {
            facts.facts[id] = DocumentFacts(live: live[id], audit: audit[id] ?? .init())
        }
        return facts
    }

    // MARK: Plan

    /// Decides every work; reads the table (one consistent `BatchGetItem` per 100 keys) for the
    /// documents whose planner needs it, and decides those again. A work whose table read
    /// failed is marked unavailable and left out. With a `handoff`, the next round may start
    /// once this one is ready to read the table, which it reads after the previous round has.
    func plan(
        _ works: [DocumentWork], facts: RoundFacts, context: WritePlanner.Context, handoff: RoundHandoff?,
        timings: inout RoundTimings, into execution: inout Execution
    ) async -> [PlannedDocument] {
        var facts = facts
        var plans = works.map { (work: $0, plan: decide($0, facts: facts, context: context)) }
        let needingTable = plans.indices.filter { plans[$0].plan == nil }
        guard !needingTable.isEmpty else { return plans.compactMap { $0.plan } }
        handoff?.gathered()
        timings.lap(\.planning)
        await handoff?.awaitTableTurn()
        timings.lap(\.tableTurn)
        defer {
            handoff?.finishTableTurn()
            timings.lap(\.tableRead)
        }
        do {
            let items = try await items.currentItems(keys: needingTable.compactMap { plans[$0].work.keys })
            for index in needingTable {
                let work = plans[index].work
                facts.facts[work.documentID]?.table = work.keys.flatMap { items[$0] }.map(TableState.present) ?? .absent
                plans[index].plan = decide(work, facts: facts, context: context)
            }
        } catch {
            ReprocessorMetrics.recordFailure(error)
            let message = "reading the table failed: \(error)"
            logger.warning("\(message)")
            markUnavailable(needingTable.map { plans[$0].work }, message, in: &execution)
            execution.failure = execution.failure ?? error
        }
        return plans.compactMap { $0.plan }
    }

    /// One work decided by its pure planner (``WritePlanner``, or ``Reconciler`` for a repair);
    /// nil when the planner needs the table's item first.
    func decide(_ work: DocumentWork, facts: RoundFacts, context: WritePlanner.Context) -> PlannedDocument? {
        let documentFacts = facts.facts[work.documentID] ?? DocumentFacts(live: nil)
        let plan: DocumentPlan
        switch work {
        case .replay(_, let changes): plan = planner.replay(changes, facts: documentFacts, context: context)
        case .rollback(let change, _, let force):
            plan = planner.rollback(change, facts: documentFacts, force: force, context: context)
        case .resync(let change, _): plan = planner.resync(change, facts: documentFacts, context: context)
        case .repair(let documentID, _):
            guard documentFacts.table != .unread else { return nil }
            let finding = Reconciler(transform: planner.transform).compare(
                documentID: documentID, table: documentFacts.table, live: documentFacts.live,
                knownSequence: facts.known[documentID], now: context.now)
            return PlannedDocument(
                work: work, write: finding.kind == nil ? nil : finding.write, decisions: [], drift: finding.kind)
        }
        guard case .decided(let write, let decisions) = plan else { return nil }
        return PlannedDocument(work: work, write: write, decisions: decisions, drift: nil)
    }

    // MARK: Record intents

    /// Records, in one transaction, the settlements that need no write and the intent of every
    /// write about to be sent (before it is sent: a write whose record is lost is found by the
    /// next recovery).
    /// - Returns: The writes to send, with their intents' ids.
    func recordIntents(
        _ planned: [PlannedDocument], claims: DocumentClaims?, timings: inout RoundTimings, into execution: inout Execution
    ) async throws -> [Outgoing] {
        var before = EngineCommit()
        var settled: [ChangeDecision] = []
        var outgoing: [Outgoing] = []
        for document in planned {
            for decision in document.decisions where !decision.needsWrite {
                if let transition = decision.transition {
                    before.settlements.append(Settlement(transition))
                    settled.append(decision)
                } else {
                    if let note = decision.note { before.notes.append((decision.change.id, note)) }
                    execution.results[decision.change.id] = OperationResult(
                        id: decision.change.id, outcome: decision.outcome, status: decision.change.status,
                        message: decision.message)
                }
            }
            guard let write = document.write else {
                if document.work.repairOrder != nil { execution.repairs[document.work.documentID] = .inStep }
                continue
            }
            let decisions = document.decisions.filter(\.needsWrite)
            let repair = document.work.repairOrder.flatMap { order in
                document.drift.map {
                    RepairMark(runID: order.runID, kind: $0.rawValue, actor: order.actor, reason: order.reason)
                }
            }
            before.newIntents.append(
                NewWriteIntent(
                    documentID: document.work.documentID, operation: write.intentOperation,
                    stampSequence: write.stampSequence, stampAppliedAt: write.stampAppliedAt,
                    settlements: decisions.compactMap { $0.transition.map { Settlement($0) } }, repair: repair))
            outgoing.append(Outgoing(work: document.work, write: write, decisions: decisions, drift: document.drift))
        }
        timings.lap(\.planning)
        let recorded = try await auditLog.commit(before, at: clock(), fence: fence, claims: claims)
        timings.lap(\.recordIntents)
        for (decision, result) in zip(settled, recorded.settlements) {
            execution.results[decision.change.id] = try await self.result(decision, result)
        }
        for (index, intentID) in recorded.intentIDs.enumerated() { outgoing[index].intentID = intentID }
        return outgoing
    }

    // MARK: Classify

    /// Classifies each answer (``WriteOutcome/classify(_:)``). A 409 is another writer's change,
    /// or this write itself, landed by an attempt whose answer was lost and refused when the
    /// request was sent again: search, read once for all of them, shows which (the write's stamp
    /// is unique to it). Search failing that read leaves whether they landed unknown.
    func classify(_ outgoing: [Outgoing], _ answers: [Result<BulkItemResult, OpenSearchError>]) async -> [Resolution] {
        var resolutions: [Resolution] = answers.map { answer in
            switch WriteOutcome.classify(answer) {
            case .landed(let item): .landed(.answered(item))
            case .conflict: .conflict
            case .retryLater(let status): .refusedForNow(status: status)
            case .writeBlocked(let line): .blocked(line)
            case .documentError(let line): .documentError(line)
            case .outage(let error): .unknown(error)
            }
        }
        let conflicted = resolutions.indices.filter { if case .conflict = resolutions[$0] { true } else { false } }
        guard !conflicted.isEmpty else { return resolutions }
        #if DEBUG
            if EngineMutation.on(.skipLandedCheck) { return resolutions }
        #endif
        do {
            let live = try await search.multiGet(index: index, ids: conflicted.map { outgoing[$0].work.documentID })
            for index in conflicted {
                let document = live[outgoing[index].work.documentID]
                if Self.landed(outgoing[index].write, live: document) {
                    resolutions[index] = .landed(.foundAfterConflict(document))
                }
            }
        } catch {
            #if DEBUG
                if EngineMutation.on(.rereadFailureAsConflict) { return resolutions }
            #endif
            for index in conflicted { resolutions[index] = .unread(error) }
        }
        return resolutions
    }
}
