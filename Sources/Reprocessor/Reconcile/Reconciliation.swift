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
    /// - Parameters:
    ///   - segments: Parallel `Scan` segments (``OperatorInput/segments``' standard when not given).
    ///   - repair: Repair what is found (otherwise a dry run).
    ///   - actor: Who asks.
    ///   - reason: Why (required to repair).
    ///   - ratePerSecond: At most this many repairs per second (a repair only).
    ///   - resume: Continue the last unfinished run of the same mode.
    public init(
        segments: Int? = nil, repair: Bool = false, actor: String, reason: String? = nil, ratePerSecond: Double? = nil,
        resume: Bool = false
    ) {
        self.segments = segments ?? OperatorInput.segments.standard
        self.repair = repair
        self.actor = actor
        self.reason = reason
        self.ratePerSecond = ratePerSecond
        self.resume = resume
    }

    /// Checks every rule of a request for every front end, before a run is recorded: segments
    /// within ``OperatorInput/segments``, a reason to repair, and a rate (within
    /// ``OperatorInput/rateRange``) only for a repair, since a dry run writes nothing to pace.
    /// - Throws: ``RequestError`` naming the field.
    public func validate() throws(RequestError) {
        do {
            _ = try OperatorInput.segments.check(segments, field: "segments")
        } catch {
            throw RequestError(.segments, error)
        }
        try RequestError.checkReason(
            reason, required: repair ? "to repair: it is recorded on the run and every repair" : nil)
        guard let ratePerSecond else { return }
        guard repair else { throw RequestError(.rate, "applies to a repair only: a dry run writes nothing to pace") }
        do {
            _ = try OperatorInput.rate(ratePerSecond, field: "rate")
        } catch {
            throw RequestError(.rate, error)
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
/// Memory stays flat: nothing is held beyond a page. Reconcile only scans, compares and hands
/// the drifted documents to the write engine as repairs (``WriteEngine/repair(_:for:beforeWriting:)``),
/// which decides each again with ``Reconciler``, writes it conditionally and records it (its
/// intent, its `reconciled` action, its count in the run) like any other write; each page's
/// counts and position commit together after its repairs, so a killed run resumes after its
/// last committed page and repeats no recorded repair (a repaired document is in step).
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
    /// - Throws: ``RequestError`` for a request its rules refuse (``ReconcileRequest/validate()``,
    ///   before a run is recorded); AWS, search and audit-log errors (the run is then kept as
    ///   failed, for `--resume`).
    public func run(
        _ request: ReconcileRequest, progress: (@Sendable (ReconcileRun) -> Void)? = nil,
        planned: (@Sendable (ReconcileFinding) -> Void)? = nil
    ) async throws -> ReconcileReport {
        let planned = request.repair ? nil : planned
        try request.validate()
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
            _ = try await engine.recoverInterruptedWrites(now: Date())
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
            let recorded = try await auditLog.recordReconcileProgress(runID: run.id, step, at: Date())
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
            let recorded = try await auditLog.recordReconcileProgress(runID: run.id, step, at: Date())
            progress?(recorded)
            guard let next = page.next else { return }
            after = next
        }
    }

    /// Hands drifted documents to the write engine as repairs (``WriteEngine/repair(_:for:beforeWriting:)``),
    /// at most `ratePerSecond` of them a second: each is decided again there from search, the
    /// table and the audit log, written conditionally, and recorded with its run's count. What
    /// the engine did goes into `step`: conflicts (409s, documents another worker holds) and
    /// failures are counted, and the repairs that landed leave `step.found` (they were counted
    /// when recorded, so a page recorded after them, or never, counts each finding once).
    /// - Throws: What left a repair undone (search or the table unreadable, a write request
    ///   that failed whole: its intent stays open for the next recovery); audit-log errors.
    func repair(
        _ ids: [String], into step: inout ReconcileProgress, run: ReconcileRun, request: ReconcileRequest,
        pacer: RatePacer
    ) async throws {
        let chunk = request.ratePerSecond.map { max(1, Int($0)) } ?? ids.count
        let order = RepairOrder(runID: run.id, actor: request.actor, reason: request.reason)
        var recorded: Set<String> = []
        defer { step.found = step.found.mapValues { $0.filter { !recorded.contains($0) } } }
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let batch = Array(ids[start..<min(start + chunk, ids.count)])
            let execution = try await engine.repair(batch, for: order) { await pacer.wait(for: $0) }
            for (documentID, result) in execution.repairs {
                switch result {
                case .repaired, .repairedElsewhere: recorded.insert(documentID)
                case .conflict: step.conflicts += 1
                case .failed: step.failed += 1
                case .inStep, .unavailable: break
                }
            }
            if let failure = execution.failure { throw failure }
        }
    }

    /// The table key of an artist document.
    static func keys(_ documentID: String) -> Item { DocumentWork.artistKeys(documentID) }
}
