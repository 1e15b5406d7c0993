import AWSClients
import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform

/// What a reconcile run is asked to do.
public struct ReconcileRequest: Sendable, Hashable {
    /// Parallel `Scan` segments (ignored when resuming: the run keeps its own).
    public var segments: Int
    /// Repair what it finds (otherwise a dry run: nothing written to search).
    public var repair: Bool
    /// Who asks (recorded on the run and on every repair's action).
    public var actor: String
    /// Why (required to repair).
    public var reason: String?
    /// At most this many repairs per second; nil for no limit.
    public var ratePerSecond: Double?
    /// Continue the last unfinished run of the same mode instead of starting one.
    public var resume: Bool

    /// Makes a request.
    public init(
        segments: Int = 4, repair: Bool = false, actor: String, reason: String? = nil, ratePerSecond: Double? = nil,
        resume: Bool = false
    ) {
        self.segments = segments
        self.repair = repair
        self.actor = actor
        self.reason = reason
        self.ratePerSecond = ratePerSecond
        self.resume = resume
    }

    /// Checks the request's numbers against the input layer's bounds (``OperatorInput/segments``,
    /// ``OperatorInput/rateRange``), so that a request built by any front end is refused before a
    /// run is recorded.
    /// - Throws: ``ReprocessorError`` `.invalidRequest` naming the field.
    public func validate() throws(ReprocessorError) {
        do {
            _ = try OperatorInput.segments.check(segments, field: "segments")
            _ = try ratePerSecond.map { (rate) throws(InputError) in try OperatorInput.rate(rate, field: "rate") }
        } catch {
            throw ReprocessorError(error)
        }
    }
}

/// What a reconcile run found and did, and the JSON every front end prints.
public struct ReconcileReport: Sendable {
    /// The run as it ended.
    public var run: ReconcileRun

    /// Differences found, all kinds together.
    public var drift: Int { DriftKind.allCases.reduce(0) { $0 + count($1) } }

    /// Differences left unrepaired (all of them in a dry run).
    public var unrepaired: Int { drift - run.repaired }

    /// Findings of one kind.
    public func count(_ kind: DriftKind) -> Int { run.found[kind.rawValue] ?? 0 }

    /// Sample document ids of one kind (at most 20).
    public func samples(_ kind: DriftKind) -> [String] { run.samples[kind.rawValue] ?? [] }

    /// The report as JSON: ``AuditJSON/reconcileRun(_:)``.
    public var json: JSONValue { AuditJSON.reconcileRun(run) }
}

/// The I/O half of `reconcile` (issue 13): a parallel `Scan` of the table's artist METADATA
/// items, each page compared with search through one `_mget` (its ids kept in the audit log,
/// on disk); then a walk of the index in `_id` order to find orphans, the ids of each page the
/// scan did not see looked up with one consistent `BatchGetItem` per 100.
/// Memory stays flat: nothing is held beyond a page. A repair reads search, then the table
/// (consistently), decides again with ``Reconciler`` and writes conditionally; each page's
/// counts, position and repair actions commit together, so a killed run resumes after its last
/// committed page and repeats no recorded repair.
public struct Reconciliation: Sendable {
    let engine: WriteEngine
    let scanner: DynamoDBClient
    let reconciler: Reconciler
    /// Items per `Scan` call, and documents per walk page.
    let pageSize: Int
    let logger: Logger

    /// The `Scan` filter: artist METADATA items only.
    static let artistFilter = ScanFilter(
        expression: "begins_with(PK, :artist) AND SK = :metadata",
        values: [":artist": .string("ARTIST#"), ":metadata": .string("METADATA")])

    /// Makes a reconciliation over the engine's search client, table and audit log.
    /// - Parameters:
    ///   - engine: The write engine (its clients and rules).
    ///   - pageSize: Items per `Scan` page and documents per walk page.
    ///   - logger: The logger.
    public init(engine: WriteEngine, pageSize: Int = 500, logger: Logger) {
        self.engine = engine
        self.scanner = engine.table.client
        self.reconciler = Reconciler(transform: engine.planner.transform)
        self.pageSize = max(1, pageSize)
        self.logger = logger
    }

    var auditLog: AuditLog { engine.auditLog }
    var openSearch: OpenSearchClient { engine.openSearch }
    var index: String { engine.index }

    /// The table's approximate item count (`DescribeTable`), for progress.
    public func estimate() async -> Int? {
        try? await scanner.approximateItemCount(tableName: engine.table.tableName)
    }

    /// Runs (or resumes) a reconcile.
    /// - Parameters:
    ///   - request: What to do.
    ///   - progress: Called with the run after each committed page.
    ///   - planned: In a dry run, called with every difference found and the repair a repairing run
    ///     would make of it (from the same reads), as each page is compared and before it is
    ///     recorded: nothing is kept, so a front end streams them. Scan segments run in parallel:
    ///     calls come from several tasks at once. Unused when repairing.
    /// - Returns: The report.
    /// - Throws: ``ReprocessorError`` `.invalidRequest` for a repair without a reason or a request
    ///   out of bounds (``ReconcileRequest/validate()``, before a run is recorded); AWS, search
    ///   and audit-log errors (the run is then kept as failed, for `--resume`).
    public func run(
        _ request: ReconcileRequest, progress: (@Sendable (ReconcileRun) -> Void)? = nil,
        planned: (@Sendable (ReconcileFinding) -> Void)? = nil
    ) async throws -> ReconcileReport {
        let planned = request.repair ? nil : planned
        try request.validate()
        if request.repair, (request.reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ReprocessorError(.invalidRequest, "a repairing reconcile needs a reason")
        }
        let mode: ReconcileRun.Mode = request.repair ? .repair : .dryRun
        var run: ReconcileRun
        if request.resume, let unfinished = try await auditLog.unfinishedReconcileRun(mode: mode) {
            run = try await auditLog.resumeReconcileRun(runID: unfinished.id, at: Date())
            logger.info("resuming reconcile run \(run.id)")
        } else {
            run = try await auditLog.startReconcileRun(
                mode: mode, actor: request.actor, reason: request.reason, segments: max(1, request.segments), at: Date())
        }
        if request.repair {
            // Repairs an earlier run wrote and did not record (killed) are recorded first, so the
            // scan finds their documents in step and repairs nothing twice.
            _ = try await engine.recoverInterruptedRepairs(now: Date())
        }
        let pacer = RatePacer(ratePerSecond: request.ratePerSecond)
        let started = run
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (segment, position) in started.positions.enumerated() where position != .done {
                    group.addTask {
                        try await scan(
                            segment: segment, from: position, run: started, request: request, pacer: pacer,
                            progress: progress, planned: planned)
                    }
                }
                try await group.waitForAll()
            }
            // After the scan, which leaves the ids it saw for the walk to skip.
            if !started.walkDone {
                try await walk(
                    after: started.walkAfter, run: started, request: request, pacer: pacer, progress: progress,
                    planned: planned)
            }
        } catch {
            _ = try? await auditLog.endReconcileRun(runID: started.id, error: "\(error)", at: Date())
            throw error
        }
        run = try await auditLog.endReconcileRun(runID: started.id, error: nil, at: Date())
        return ReconcileReport(run: run)
    }

    /// `resolve-expired`: a repairing run (``run(_:progress:)`` with `repair` set), then, when it
    /// left no drift unrepaired, the batches that expired before it started are marked resolved,
    /// naming the run. With drift left (conflicts, failures) nothing is resolved.
    /// - Returns: The run's report and the ids of the batches resolved.
    /// - Throws: As ``run(_:progress:)``.
    public func resolveExpired(_ request: ReconcileRequest, progress: (@Sendable (ReconcileRun) -> Void)? = nil)
        async throws -> (report: ReconcileReport, resolvedBatches: [Int64])
    {
        var request = request
        request.repair = true
        let report = try await run(request, progress: progress)
        guard report.unrepaired == 0 else { return (report, []) }
        let resolved = try await auditLog.resolveExpiredBatches(
            coveredBy: report.run, actor: request.actor, reason: request.reason, at: Date())
        return (report, resolved)
    }

    /// One scan segment, page by page, from `position`.
    func scan(
        segment: Int, from position: ReconcileRun.SegmentPosition, run: ReconcileRun, request: ReconcileRequest,
        pacer: RatePacer, progress: (@Sendable (ReconcileRun) -> Void)?, planned: (@Sendable (ReconcileFinding) -> Void)?
    ) async throws {
        let (scanner, tableName, pageSize) = (scanner, engine.table.tableName, pageSize)
        let read = { (position: ReconcileRun.SegmentPosition) -> Task<ScanPage, any Error>? in
            guard position != .done else { return nil }
            var start: Item?
            if case .after(let key) = position { start = key }
            return Task {
                try await scanner.scan(
                    tableName: tableName, segment: segment, totalSegments: run.segments, exclusiveStartKey: start,
                    limit: pageSize, filter: Self.artistFilter)
            }
        }
        // One page read ahead: the table reads the next page while this one is compared, repaired
        // and recorded (two pages held per segment at most).
        var reading = read(position)
        defer { reading?.cancel() }
        while let current = reading {
            try Task.checkCancellation()
            let page = try await current.value
            let next: ReconcileRun.SegmentPosition = page.lastEvaluatedKey.map { .after($0) } ?? .done
            reading = read(next)
            var step = ReconcileProgress(segment: segment, position: next)
            var items: [String: Item] = [:]
            for item in page.items {
                guard let id = SyncTransform.documentID(forKeys: item) else { continue }
                items[id] = item
            }
            step.scanned = items.count
            let ids = items.keys.sorted()
            step.seen = ids
            if !ids.isEmpty {
                let live = try await openSearch.multiGet(index: index, ids: ids)
                let known = try await auditLog.newestKnownSequences(ids)
                var drifted: [String] = []
                for id in ids {
                    let finding = reconciler.compare(
                        documentID: id, table: .present(items[id]!), live: live[id], knownSequence: known[id], now: Date())
                    guard let kind = finding.kind else { continue }
                    step.found[kind.rawValue, default: []].append(id)
                    drifted.append(id)
                    planned?(finding)
                }
                if request.repair, !drifted.isEmpty {
                    try await repair(drifted, into: &step, run: run, request: request, pacer: pacer)
                }
            }
            // Recorded whether or not anyone watches (`progress?(…)` would skip its argument when nil).
            let recorded = try await record(step, run: run)
            progress?(recorded)
            await TestPause.at(.reconcileAfterPage, logger: logger)
        }
    }

    /// The index walk, page by page, after `after`: documents whose item is gone are orphans. A
    /// document the scan saw had its item then and is not looked up again (an item deleted since
    /// is the stream's to bring to search); the others are read from the table, consistently.
    func walk(
        after: String?, run: ReconcileRun, request: ReconcileRequest, pacer: RatePacer,
        progress: (@Sendable (ReconcileRun) -> Void)?, planned: (@Sendable (ReconcileFinding) -> Void)?
    ) async throws {
        var after = after
        while true {
            try Task.checkCancellation()
            let page = try await openSearch.walkPage(index: index, after: after, size: pageSize)
            var step = ReconcileProgress(walkAfter: page.documents.last?.id ?? after, walkDone: page.next == nil)
            step.indexed = page.documents.count
            let ids = page.documents.map(\.id)
            if !ids.isEmpty {
                let unseen = try await auditLog.unseenDocuments(runID: run.id, ids)
                let items = try await engine.table.currentItems(keys: unseen.map(Self.keys))
                let orphans = unseen.filter { items[Self.keys($0)] == nil }
                if let planned {
                    for document in page.documents where orphans.contains(document.id) {
                        planned(reconciler.orphan(documentID: document.id, condition: document.unchangedCondition))
                    }
                }
                if !orphans.isEmpty {
                    step.found[DriftKind.orphaned.rawValue] = orphans
                    if request.repair {
                        try await repair(orphans, into: &step, run: run, request: request, pacer: pacer)
                    }
                }
            }
            // Recorded whether or not anyone watches (`progress?(…)` would skip its argument when nil).
            let recorded = try await record(step, run: run)
            progress?(recorded)
            guard let next = page.next else { return }
            after = next
        }
    }

    /// Repairs drifted documents: reads search, then the table (consistently), decides again and
    /// writes conditionally; the actions of the writes that landed go into `step`.
    ///
    /// On a shared store the documents are claimed first, as the write engine claims them
    /// (``WriteEngine/claiming(as:ttl:)``): a document another worker holds is being replayed
    /// and is left to it (counted with the conflicts); the claims taken go into `step`, so
    /// its intents and its page are recorded only while they hold, and are given back once
    /// the page is recorded (``record(_:run:)``), or here when a repair fails.
    func repair(
        _ ids: [String], into step: inout ReconcileProgress, run: ReconcileRun, request: ReconcileRequest,
        pacer: RatePacer
    ) async throws {
        do {
            try await repairClaimed(ids, into: &step, run: run, request: request, pacer: pacer)
        } catch {
            if let claims = step.claims { try? await auditLog.releaseClaims(claims) }
            step.claims = nil
            throw error
        }
    }

    private func repairClaimed(
        _ ids: [String], into step: inout ReconcileProgress, run: ReconcileRun, request: ReconcileRequest,
        pacer: RatePacer
    ) async throws {
        let chunk = request.ratePerSecond.map { max(1, Int($0)) } ?? ids.count
        for start in stride(from: 0, to: ids.count, by: chunk) {
            var batch = Array(ids[start..<min(start + chunk, ids.count)])
            if let claimant = engine.claimant {
                batch = try await claim(batch, as: claimant, into: &step)
                guard !batch.isEmpty else { continue }
            }
            let live = try await openSearch.multiGet(index: index, ids: batch)
            let items = try await engine.table.currentItems(keys: batch.map(Self.keys))
            let known = try await auditLog.newestKnownSequences(batch)
            var writes: [(documentID: String, kind: DriftKind, write: PlannedWrite)] = []
            for id in batch {
                let table: TableState = items[Self.keys(id)].map(TableState.present) ?? .absent
                let finding = reconciler.compare(
                    documentID: id, table: table, live: live[id], knownSequence: known[id], now: Date())
                if let kind = finding.kind, let write = finding.write { writes.append((id, kind, write)) }
            }
            guard !writes.isEmpty else { continue }
            await pacer.wait(for: writes.count)
            await TestPause.at(.reconcileBeforeWrite, logger: logger)
            // The intents first: a write whose record is lost (a kill) is found by the next recovery.
            let intentIDs = try await auditLog.recordRepairIntents(
                writes.map { documentID, kind, write in
                    RepairIntent(
                        runID: run.id, documentID: documentID, kind: kind.rawValue,
                        operation: write.intentOperation, stampSequence: write.stampSequence,
                        stampAppliedAt: write.stampAppliedAt)
                }, at: Date(), claims: step.claims)
            let outcomes = try await openSearch.bulkSettled(index: index, operations: writes.map(\.write.operation))
            await TestPause.at(.reconcileAfterWriteBeforeRecord, logger: logger)
            let completion = {
                (
                    documentID: String, kind: DriftKind, write: PlannedWrite, intentID: Int64, seqNo: Int64?,
                    extra: [String: JSONValue]
                ) in
                let response = Self.repairResponse(
                    runID: run.id, documentID: documentID, kind: kind.rawValue, written: write.written, seqNo: seqNo,
                    extra: extra)
                return RepairCompletion(
                    intentID: intentID, runID: run.id, documentID: documentID, kind: kind.rawValue,
                    action: Self.repairAction(
                        kind: kind.rawValue, deleted: write.written == .null, actor: request.actor, reason: request.reason,
                        response: response))
            }
            var conflicted: [(documentID: String, kind: DriftKind, write: PlannedWrite, intentID: Int64)] = []
            for ((documentID, kind, write), (intentID, outcome)) in zip(writes, zip(intentIDs, outcomes)) {
                // A request error leaves whether it landed unknown: its intent stays open for recovery.
                let item = try outcome.get()
                if item.isSuccess {
                    step.repairs.append(
                        completion(
                            documentID, kind, write, intentID, item.seqNo,
                            ["status": .number(String(item.status)), "result": item.result.map(JSONValue.string) ?? .null]))
                    continue
                }
                if item.status == 409 {
                    conflicted.append((documentID, kind, write, intentID))
                    continue
                }
                step.droppedIntents.append(intentID)
                step.failed += 1
                logger.warning(
                    "reconcile: repair refused: OpenSearch \(item.status) \(item.errorType ?? "error"): \(item.errorReason ?? "")",
                    metadata: ["documentId": "\(documentID)"])
            }
            guard !conflicted.isEmpty else { continue }
            // A 409 is either another writer's change or this repair itself, landed by an attempt
            // whose answer was lost and refused when the request was sent again: search shows which
            // (the write's stamp is unique to it), as it does to the recovery of a killed run.
            let liveNow = try await openSearch.multiGet(index: index, ids: conflicted.map(\.documentID))
            for (documentID, kind, write, intentID) in conflicted {
                let document = liveNow[documentID]
                if WriteEngine.landed(write, live: document) {
                    step.repairs.append(
                        completion(
                            documentID, kind, write, intentID, document?.seqNo,
                            ["status": .number("409"), "result": .string("landed by an earlier attempt")]))
                    continue
                }
                step.droppedIntents.append(intentID)
                step.conflicts += 1
                logger.info(
                    "reconcile: search changed under the document; not repaired", metadata: ["documentId": "\(documentID)"])
            }
        }
    }

    /// Claims `batch` for this worker, adding the claims to `step` (whose earlier claims are
    /// renewed first: a paced page may outlast one claim's time); the documents another worker
    /// holds are counted with the conflicts and logged.
    /// - Returns: The documents claimed.
    private func claim(_ batch: [String], as claimant: WriteEngine.Claimant, into step: inout ReconcileProgress)
        async throws -> [String]
    {
        if let held = step.claims {
            _ = try await auditLog.renewClaims(held, ttl: claimant.ttl, now: Date())
        }
        // The page claims as one task of its own: the rounds, requests and other pages of this
        // process hold their documents against it, as other workers do.
        let task = step.claims?.holder ?? claimant.task()
        let claims = try await auditLog.claimDocuments(batch, holder: task, ttl: claimant.ttl, now: Date())
        step.claims = DocumentClaims(holder: task, epochs: (step.claims?.epochs ?? [:]).merging(claims.epochs) { $1 })
        let othersHold = batch.filter { !claims.holds($0) }
        step.conflicts += othersHold.count
        for documentID in othersHold {
            logger.info("reconcile: another worker holds the document; left to it", metadata: ["documentId": "\(documentID)"])
        }
        return batch.filter(claims.holds)
    }

    /// Records a page, then gives back the document claims its repairs were made under, whether
    /// or not it was recorded.
    private func record(_ step: ReconcileProgress, run: ReconcileRun) async throws -> ReconcileRun {
        let recorded: ReconcileRun
        do {
            recorded = try await auditLog.recordReconcileProgress(runID: run.id, step, at: Date())
        } catch {
            if let claims = step.claims { try? await auditLog.releaseClaims(claims) }
            throw error
        }
        if let claims = step.claims { try await auditLog.releaseClaims(claims) }
        return recorded
    }

    /// The `reconciled` action of a repair that landed.
    /// - Parameters:
    ///   - kind: The drift repaired.
    ///   - deleted: Whether the repair deleted an orphan (else it wrote the table's item).
    ///   - actor: The run's actor.
    ///   - reason: The run's reason.
    ///   - response: ``repairResponse(runID:documentID:kind:written:seqNo:extra:)``.
    static func repairAction(kind: String, deleted: Bool, actor: String, reason: String?, response: String) -> ActionEntry {
        ActionEntry(
            action: .reconciled, actor: actor, reason: reason,
            outcome: deleted
                ? "\(kind): deleted the document, the table has no item"
                : "\(kind): wrote the table's current item (table copy)",
            response: response)
    }

    /// A repair's response as its action keeps it: the run, the document (which `history` finds it
    /// by), the kind, what was written (null for a delete) and search's answer (`extra`).
    static func repairResponse(
        runID: Int64, documentID: String, kind: String, written: JSONValue, seqNo: Int64?, extra: [String: JSONValue]
    ) -> String {
        var members: [String: JSONValue] = [
            "reconcileRun": .number(String(runID)), "documentId": .string(documentID), "kind": .string(kind),
            "written": written, "seqNo": seqNo.map { .number(String($0)) } ?? .null,
        ]
        members.merge(extra) { _, new in new }
        return JSONValue.object(members).serialized
    }

    /// The table key of an artist document.
    static func keys(_ documentID: String) -> Item {
        ["PK": .string("ARTIST#\(documentID)"), "SK": .string("METADATA")]
    }
}
