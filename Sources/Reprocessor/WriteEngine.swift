import AWSClients
import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization

/// Reads the table's current items with consistent reads.
public struct TableReader: Sendable {
    let client: DynamoDBClient
    /// The table.
    public let tableName: String

    /// Creates a reader.
    /// - Parameters:
    ///   - client: The DynamoDB client.
    ///   - tableName: The table.
    public init(client: DynamoDBClient, tableName: String) {
        self.client = client
        self.tableName = tableName
    }

    /// The items with `keys` as they are now (one consistent `BatchGetItem` per 100 keys); a key
    /// whose item is gone is absent from the result.
    /// - Throws: `AWSError`.
    public func currentItems(keys: [Item]) async throws -> [Item: Item] {
        guard !keys.isEmpty else { return [:] }
        let keyNames = Array(Set(keys.flatMap(\.keys)))
        return try await client.batchGetItem(tableName: tableName, keys: keys, keyNames: keyNames, consistentRead: true)
    }
}

/// An action run at most once, however often it is called (from any task).
final class Once: Sendable {
    private let action: Mutex<(@Sendable () -> Void)?>

    init(_ action: @escaping @Sendable () -> Void) {
        self.action = Mutex(action)
    }

    func callAsFunction() {
        let action = self.action.withLock { action in
            defer { action = nil }
            return action
        }
        action?()
    }
}

/// One document's work for the engine: what to decide, with which planner.
enum DocumentWork: Sendable {
    /// Replay the document's due changes.
    case replay(documentID: String, changes: [ChangeRecord])
    /// Roll one applied change back.
    case rollback(ChangeRecord, documentID: String, force: Bool)
    /// Rewrite the document from the table.
    case resync(ChangeRecord, documentID: String)

    var documentID: String {
        switch self {
        case .replay(let id, _), .rollback(_, let id, _), .resync(_, let id): id
        }
    }

    var changes: [ChangeRecord] {
        switch self {
        case .replay(_, let changes): changes
        case .rollback(let change, _, _), .resync(let change, _): [change]
        }
    }

    /// The item key to read from the table (every change of a document has the same).
    var keys: Item? { changes.lazy.compactMap(\.keys).first }

    /// Replay work per document, documents in the order they first appear; a change named twice
    /// counts once, and changes without a document are left out. Only what replay reads is kept
    /// of the images — the new image of each document's newest change — so that the rounds in
    /// flight hold one item per document, not two per change.
    static func replays(of changes: [ChangeRecord]) -> [DocumentWork] {
        var byDocument: [String: [ChangeRecord]] = [:]
        var order: [String] = []
        for change in changes {
            guard let documentID = change.documentID else { continue }
            if byDocument[documentID] == nil { order.append(documentID) }
            if !(byDocument[documentID] ?? []).contains(where: { $0.id == change.id }) {
                byDocument[documentID, default: []].append(change)
            }
        }
        return order.map { documentID in
            let changes = byDocument[documentID] ?? []
            let newest = changes.max { ($0.sequenceNumber, $0.id) < ($1.sequenceNumber, $1.id) }?.id
            return .replay(
                documentID: documentID,
                changes: changes.map { change in
                    var lean = change
                    lean.oldImage = nil
                    if change.id != newest { lean.newImage = nil }
                    return lean
                })
        }
    }
}

/// The write engine (DESIGN §5): every write to search goes through it, whoever asks —
/// scheduled replay, operator retry, rollback and resync, from the CLI, the API or the loop.
///
/// Per batch of documents it reads search once (`_mget`), the audit log once, the table once
/// per 100 keys that need it (consistent `BatchGetItem`), lets the planners decide each
/// document, records the intent of every write, sends one conditional `_bulk`, and records
/// every outcome in one transaction. Items refused with 409 are decided again (bounded).
/// When search as a whole fails, the pass stops without counting attempts against changes.
public struct WriteEngine: Sendable {
    let auditLog: AuditLog
    let openSearch: OpenSearchClient
    let table: TableReader
    /// The planners.
    public let planner: WritePlanner
    let logger: Logger
    /// Documents per round (`_mget` + `_bulk`).
    let batchDocuments: Int
    /// Rounds of re-deciding after 409s, or retrying items search refused for the moment.
    let rounds = 3
    /// Due changes read from the audit log at a time.
    let pageSize = 1000
    /// Rounds of a pass under way at once (each on its own documents): one reads search, the
    /// audit log and the table while the others record and write.
    let roundsInFlight = 2
    /// How long a write intent may stay open before the next pass decides its write never landed.
    let intentGrace: TimeInterval
    /// The run lease this engine works under: every step it records, and every write it is about
    /// to send, is refused once the lease moved to another holder.
    let fence: LeaseFence?
    /// On a shared store, the worker this engine claims its documents as: see ``claiming(as:ttl:)``.
    let claimant: Claimant?

    /// Who claims documents, and for how long each claim lasts without being finished.
    struct Claimant: Sendable {
        /// The worker: this process's holder id.
        var holder: String
        var ttl: Duration

        /// A claimant id of its own for one task of this worker (a replay round, an operator
        /// request, a recovery, a reconcile page): the worker's holder id and a task number. Two
        /// tasks of one process never take each other's claims, and each gives back only its own.
        func task() -> String {
            "\(holder)#\(Self.tasks.add(1, ordering: .relaxed).newValue)"
        }

        private static let tasks = Atomic<Int>(0)
    }

    /// Creates an engine.
    /// - Parameters:
    ///   - auditLog: The audit log.
    ///   - openSearch: The search client.
    ///   - table: The table reader.
    ///   - planner: The planners.
    ///   - batchDocuments: Documents per round.
    ///   - intentGrace: Seconds after which an open write intent whose write search does not show is dropped.
    ///   - logger: The logger.
    public init(
        auditLog: AuditLog, openSearch: OpenSearchClient, table: TableReader, planner: WritePlanner,
        batchDocuments: Int = 500, intentGrace: TimeInterval = 600, logger: Logger
    ) {
        self.auditLog = auditLog
        self.openSearch = openSearch
        self.table = table
        self.planner = planner
        self.batchDocuments = max(1, batchDocuments)
        self.intentGrace = intentGrace
        self.logger = logger
        self.fence = nil
        self.claimant = nil
    }

    private init(_ engine: WriteEngine, fence: LeaseFence?, claimant: Claimant?) {
        auditLog = engine.auditLog
        openSearch = engine.openSearch
        table = engine.table
        planner = engine.planner
        batchDocuments = engine.batchDocuments
        intentGrace = engine.intentGrace
        logger = engine.logger
        self.fence = fence
        self.claimant = claimant
    }

    /// This engine working under the run lease: each step is recorded only while `fence` holds the
    /// lease (its intents are recorded in the same check, just before the writes are sent), so a
    /// process that lost the lease stops with `AuditLogError.leaseLost` instead of writing.
    public func fenced(by fence: LeaseFence) -> WriteEngine {
        WriteEngine(self, fence: fence, claimant: claimant)
    }

    /// This engine as one worker of a fleet sharing a PostgreSQL store: before it decides a
    /// round of documents it claims them (``AuditLog/claimDocuments(_:holder:ttl:now:)``), and
    /// every step it records for them is refused once a claim expired or was taken over. Each
    /// round, operator request and recovery claims as a task of its own (`holder#n`), so a
    /// document one task holds is held against every other task, of this process too. A
    /// document another claimant holds is left to it: replay passes it by (it stays due for
    /// whoever holds it), an operator action reports it as a conflict to try again. Claims are
    /// released (by claimant and epoch) when the round is recorded; a worker that dies leaves
    /// claims that expire after `ttl`, and the next worker to claim them finishes (or drops)
    /// the writes it left open.
    /// - Parameters:
    ///   - holder: This process's holder id (unique per process start).
    ///   - ttl: How long a claim lasts; a round must be recorded within it.
    public func claiming(as holder: String, ttl: Duration) -> WriteEngine {
        WriteEngine(self, fence: fence, claimant: Claimant(holder: holder, ttl: ttl))
    }

    var index: String { planner.transform.index }

    /// Checks that OpenSearch answers (`GET /`), for readiness and before resuming after an outage.
    /// - Throws: `OpenSearchError` when it cannot be reached or refuses.
    public func checkSearch() async throws {
        try await openSearch.ping()
    }

    /// The document search holds now for `documentID` (its `_source`), as an operator compares it
    /// with a change's images.
    /// - Parameter documentID: The search document id.
    /// - Returns: The document's source, or nil when search has none.
    /// - Throws: `OpenSearchError` when search cannot be reached or refuses.
    public func liveDocument(_ documentID: String) async throws -> JSONValue? {
        try await openSearch.get(index: index, id: documentID)?.source
    }

    // MARK: Replay

    /// Applies every due change (pending, or failed and past its backoff), a document at a time
    /// coalesced into one write, after recording any write an earlier pass left unrecorded.
    /// - Parameters:
    ///   - progress: Called with the running totals after each batch.
    ///   - shouldStop: Consulted before each batch; once it returns true the pass ends after the
    ///     batch in flight, and the changes not reached stay due for the next pass.
    /// - Returns: What was done; ``ReplaySummary/pausedReason`` when search as a whole failed.
    /// - Throws: Audit-log errors; search and AWS failures are outcomes instead.
    public func replayDue(
        progress: (@Sendable (ReplaySummary) -> Void)? = nil, shouldStop: (@Sendable () -> Bool)? = nil
    ) async throws -> ReplaySummary {
        let summary = try await replayPass(progress: progress, shouldStop: shouldStop)
        // stats says whether replay is paused, and why, until a pass gets through.
        try await auditLog.recordReplayPause(summary.pausedReason, at: Date())
        return summary
    }

    /// ``replayDue(progress:shouldStop:)`` without recording the pause.
    func replayPass(
        progress: (@Sendable (ReplaySummary) -> Void)?, shouldStop: (@Sendable () -> Bool)?
    ) async throws -> ReplaySummary {
        var summary = ReplaySummary()
        do {
            summary.recovered = try await recoverInterruptedWrites(now: Date())
        } catch let error as OpenSearchError {
            ReprocessorMetrics.recordFailure(error)
            summary.pausedReason = "search is unavailable: \(error)"
            return summary
        }
        var cursor: String?
        var carried: [ChangeRecord] = []
        // Documents waiting for a round: rounds are filled across pages of due changes.
        var waiting: [DocumentWork] = []
        // Each round says when its reads are done; the next round starts reading only then, so the
        // slowest peer (the table) is read back to back while earlier rounds write and record.
        let (readsDone, readsSignal) = AsyncStream<Void>.makeStream()
        var roundsReading = readsDone.makeAsyncIterator()
        return try await withThrowingTaskGroup(of: Execution.self) { running in
            var inFlight = 0
            var reading = false
            // Takes in the next round to finish; false once the pass must pause.
            func finishRound() async throws -> Bool {
                guard let execution = try await running.next() else { return true }
                inFlight -= 1
                for result in execution.results.values { summary.count(result.outcome) }
                summary.writes += execution.writes
                progress?(summary)
                if let outage = execution.outage, summary.pausedReason == nil {
                    summary.pausedReason = outage
                    logger.warning("replay paused: \(outage)")
                }
                return summary.pausedReason == nil
            }
            pages: repeat {
                if shouldStop?() == true { break }
                let page = try await auditLog.dueChanges(now: Date(), after: cursor, limit: pageSize)
                cursor = page.next
                var rows = carried + page.rows
                carried = []
                // A document's changes may continue on the next page: decide them together.
                if cursor != nil, let last = rows.last?.documentID, let split = rows.lastIndex(where: { $0.documentID != last }) {
                    carried = Array(rows[(split + 1)...])
                    rows = Array(rows[...split])
                }
                let homeless = rows.filter { $0.documentID == nil }
                if !homeless.isEmpty {
                    for result in try await failWithoutWriting(homeless, "change has no artist document to apply to") {
                        summary.count(result.outcome)
                    }
                }
                waiting += DocumentWork.replays(of: rows)
                let lastPage = cursor == nil && carried.isEmpty
                while waiting.count >= batchDocuments || (lastPage && !waiting.isEmpty) {
                    if shouldStop?() == true { break pages }
                    // Rounds overlap: while one writes to search, the next reads the table and the
                    // audit log. Their documents are distinct, so their order does not matter.
                    if reading {
                        _ = await roundsReading.next()
                        reading = false
                    }
                    if inFlight == roundsInFlight, try await !finishRound() { break pages }
                    let batch = Array(waiting.prefix(batchDocuments))
                    waiting.removeFirst(batch.count)
                    running.addTask {
                        let readsFinished = Once { readsSignal.yield() }
                        defer { readsFinished() }
                        let started = ContinuousClock.now
                        let execution = try await execute(
                            batch, context: .init(actor: "system", now: Date()), dryRun: false, readsFinished: readsFinished,
                            passingHeld: true)
                        ReprocessorMetrics.record(Array(execution.results.values), duration: ContinuousClock.now - started)
                        return execution
                    }
                    inFlight += 1
                    reading = true
                }
            } while cursor != nil || !carried.isEmpty
            while inFlight > 0 { _ = try await finishRound() }
            return summary
        }
    }

    /// Records, as failed tries, changes that cannot be written at all.
    func failWithoutWriting(_ changes: [ChangeRecord], _ message: String) async throws -> [OperationResult] {
        let context = WritePlanner.Context(actor: "system", now: Date())
        let decisions = changes.map { planner.failure($0, message, context) }
        var commit = EngineCommit()
        commit.settlements = decisions.compactMap { $0.transition.map { Settlement($0) } }
        let committed = try await auditLog.commit(commit, at: Date(), fence: fence)
        var results: [OperationResult] = []
        for (decision, result) in zip(decisions, committed.settlements) {
            results.append(try await self.result(decision, result))
        }
        return results
    }

    // MARK: Recovery

    /// Resolves write intents left open by a pass that stopped between a write and its record
    /// (killed, or its recording lost a race), reconcile repairs' first
    /// (``recoverInterruptedRepairs(now:)``): a write search shows is recorded now, with its
    /// actions; an intent whose write search does not show is dropped once it is older than the
    /// grace period (its writer may still be sending it until then).
    /// - Returns: How many interrupted writes were found and recorded.
    /// - Throws: `OpenSearchError` when search cannot be read; audit-log errors.
    func recoverInterruptedWrites(now: Date) async throws -> Int {
        let repairs = try await recoverInterruptedRepairs(now: now)
        let intents = try await auditLog.openWriteIntents(recordedBefore: now, limit: 1000)
        guard !intents.isEmpty else { return repairs }
        // In a fleet, an open intent may be a live worker's write in flight: only the documents
        // this worker can claim (free, or their holder's claim expired) are resolved here.
        let recovered = try await withClaims(intents.map(\.intent.documentID)) { claims in
            try await recover(
                claims.map { claims in intents.filter { claims.holds($0.intent.documentID) } } ?? intents, now: now,
                claims: claims)
        }
        return repairs + recovered
    }

    /// ``recoverInterruptedWrites(now:)`` for `intents`, whose documents this worker holds.
    private func recover(_ intents: [WriteIntent], now: Date, claims: DocumentClaims?) async throws -> Int {
        guard !intents.isEmpty else { return 0 }
        let live = try await openSearch.multiGet(index: index, ids: Array(Set(intents.map(\.intent.documentID))))
        var commit = EngineCommit()
        for open in intents {
            let intent = open.intent
            let document = live[intent.documentID]
            if Self.landed(
                intent.operation, stampSequence: intent.stampSequence, stampAppliedAt: intent.stampAppliedAt, live: document)
            {
                let response = JSONValue.object([
                    "written": document?.source ?? .null, "recovered": .bool(true),
                    "seqNo": document.map { .number(String($0.seqNo)) } ?? .null,
                ]).serialized
                commit.completions.append(
                    IntentCompletion(intentID: open.id, settlements: Self.carryingResponse(intent.settlements, response)))
                logger.notice(
                    "recorded an interrupted write found in search",
                    metadata: ["documentId": "\(intent.documentID)", "intentId": "\(open.id)"])
            } else if open.createdAt.addingTimeInterval(intentGrace) < now {
                commit.droppedIntents.append(open.id)
            }
        }
        guard !commit.isEmpty else { return 0 }
        let committed = try await auditLog.commit(commit, at: Date(), fence: fence, claims: claims)
        return committed.completions.filter { $0 != nil }.count
    }

    // MARK: Claims

    /// Runs `body` with those of `documentIDs` this worker could claim when it is a fleet worker
    /// (`nil` otherwise: it works alone, under the run lease), and gives the claims back when
    /// `body` returns or throws, so other workers may take the documents at once.
    func withClaims<T>(_ documentIDs: [String], _ body: (DocumentClaims?) async throws -> T) async throws -> T {
        guard let claimant else { return try await body(nil) }
        let claims = try await auditLog.claimDocuments(
            documentIDs, holder: claimant.task(), ttl: claimant.ttl, now: Date())
        let result: T
        do {
            result = try await body(claims)
        } catch {
            try? await auditLog.releaseClaims(claims)
            throw error
        }
        try await auditLog.releaseClaims(claims)
        return result
    }

    /// `settlements` with `response` on the last one (the change the write was for) and, should
    /// its move be refused, a note that still records the write.
    static func carryingResponse(_ settlements: [Settlement], _ response: String) -> [Settlement] {
        var settlements = settlements
        guard var last = settlements.popLast() else { return [] }
        last.request.action.response = response
        last.noteIfRefused = ActionEntry(
            action: .conflict, actor: last.request.action.actor, reason: last.request.action.reason,
            outcome: "written to search, but another process settled the change first", response: response)
        return settlements + [last]
    }

    // MARK: Executing

    /// What ``execute(_:context:dryRun:)`` did.
    struct Execution {
        /// Per change looked at.
        var results: [Int64: OperationResult] = [:]
        /// Writes that landed.
        var writes = 0
        /// Set when search as a whole failed; the changes not settled stay due.
        var outage: String?
    }

    /// Decides and carries out `works` (at most one per document), in rounds.
    /// - Parameter readsFinished: Called once the first round's reads (search, the audit log, the
    ///   table) are done and its writes are about to be recorded and sent.
    /// - Parameter passingHeld: When this engine claims documents (a fleet), whether a document
    ///   another worker holds is passed by without a result, as a replay pass does (it stays due
    ///   for its holder); otherwise its changes get a `conflict` result, for the operator to try again.
    func execute(
        _ works: [DocumentWork], context: WritePlanner.Context, dryRun: Bool, readsFinished: Once? = nil,
        passingHeld: Bool = false
    ) async throws -> Execution {
        guard !dryRun, claimant != nil else {
            return try await execute(works, context: context, dryRun: dryRun, readsFinished: readsFinished, claims: nil)
        }
        return try await withClaims(works.map(\.documentID)) { claims in
            var execution = Execution()
            var mine: [DocumentWork] = []
            for work in works {
                if claims?.holds(work.documentID) == true {
                    mine.append(work)
                } else if !passingHeld {
                    // A replay pass leaves the document to the worker holding it; an operator is told.
                    for change in work.changes {
                        execution.results[change.id] = OperationResult(
                            id: change.id, outcome: .conflict, status: change.status,
                            message:
                                "another worker is writing document \(work.documentID) now (a replay round or another request); nothing written, try again"
                        )
                    }
                }
            }
            // What was due when the page was read may have been settled since by the worker that
            // held the document then: replay decides from what is due now.
            let replayed = mine.compactMap { work -> String? in
                if case .replay = work { return work.documentID }
                return nil
            }
            if !replayed.isEmpty {
                let due = try await auditLog.dueChanges(documentIDs: replayed, now: context.now)
                mine = mine.filter { if case .replay = $0 { false } else { true } } + DocumentWork.replays(of: due)
            }
            let done = try await execute(mine, context: context, dryRun: false, readsFinished: readsFinished, claims: claims)
            execution.results.merge(done.results) { _, new in new }
            execution.writes = done.writes
            execution.outage = done.outage
            return execution
        }
    }

    /// ``execute(_:context:dryRun:readsFinished:)`` on documents this worker holds (`claims`,
    /// nil when it works alone under the run lease).
    private func execute(
        _ works: [DocumentWork], context: WritePlanner.Context, dryRun: Bool, readsFinished: Once?, claims: DocumentClaims?
    ) async throws -> Execution {
        var execution = Execution()
        var pending = works
        var round = 0
        while !pending.isEmpty {
            round += 1
            if round > rounds {
                for work in pending {
                    for change in work.changes where execution.results[change.id] == nil {
                        execution.results[change.id] = OperationResult(
                            id: change.id, outcome: .conflict, status: change.status,
                            message:
                                "search kept changing under this document (\(rounds) tries); nothing written, the change stays as it is"
                        )
                    }
                }
                break
            }
            if round > 1 { try? await Task.sleep(for: .milliseconds(100 << round)) }
            var timings = RoundTimings()
            let ids = pending.map(\.documentID)
            let live: [String: OpenSearchDocument]
            do {
                live = try await openSearch.multiGet(index: index, ids: ids)
            } catch {
                ReprocessorMetrics.recordFailure(error)
                execution.outage = "reading search failed: \(error)"
                markUnavailable(pending, execution.outage!, in: &execution)
                return execution
            }
            timings.lap(\.searchRead)
            let audit = try await auditLog.documentFacts(ids, now: context.now)
            timings.lap(\.auditRead)
            var facts: [String: DocumentFacts] = [:]
            for id in ids {
                facts[id] = DocumentFacts(live: live[id], audit: audit[id] ?? .init())
            }
            var plans = pending.map { ($0, plan($0, facts: facts[$0.documentID]!, context: context)) }
            let needingTable = plans.indices.filter { plans[$0].1 == .needsTable }
            if !needingTable.isEmpty {
                defer { timings.lap(\.tableRead) }
                do {
                    let items = try await table.currentItems(keys: needingTable.compactMap { plans[$0].0.keys })
                    for index in needingTable {
                        let work = plans[index].0
                        var documentFacts = facts[work.documentID]!
                        documentFacts.table = work.keys.flatMap { items[$0] }.map(TableState.present) ?? .absent
                        plans[index].1 = plan(work, facts: documentFacts, context: context)
                    }
                } catch {
                    ReprocessorMetrics.recordFailure(error)
                    let message = "reading the table failed: \(error)"
                    logger.warning("\(message)")
                    markUnavailable(needingTable.map { plans[$0].0 }, message, in: &execution)
                    plans = plans.enumerated().filter { !needingTable.contains($0.offset) }.map(\.element)
                }
            }
            readsFinished?()
            if dryRun {
                for (work, plan) in plans {
                    guard case .decided(_, let decisions) = plan else { continue }
                    for decision in decisions {
                        execution.results[decision.change.id] = Self.dryRunResult(decision, work: work)
                    }
                }
                return execution
            }
            // Record the settlements that need no write, and the intent of every write, before writing.
            var before = EngineCommit()
            var settled: [ChangeDecision] = []
            var writes: [(work: DocumentWork, write: PlannedWrite, decisions: [ChangeDecision])] = []
            for (work, plan) in plans {
                guard case .decided(let write, let decisions) = plan else { continue }
                for decision in decisions where !decision.needsWrite {
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
                if let write {
                    let writeDecisions = decisions.filter(\.needsWrite)
                    before.newIntents.append(
                        NewWriteIntent(
                            documentID: work.documentID, operation: write.intentOperation,
                            stampSequence: write.stampSequence, stampAppliedAt: write.stampAppliedAt,
                            settlements: writeDecisions.compactMap { $0.transition.map { Settlement($0) } }))
                    writes.append((work, write, writeDecisions))
                }
            }
            timings.lap(\.planning)
            let recorded = try await auditLog.commit(before, at: Date(), fence: fence, claims: claims)
            timings.lap(\.recordIntents)
            for (decision, result) in zip(settled, recorded.settlements) {
                execution.results[decision.change.id] = try await self.result(decision, result)
            }
            guard !writes.isEmpty else { break }
            await TestPause.at(.beforeWrite, logger: logger)
            let outcomes = try await openSearch.bulkSettled(index: index, operations: writes.map(\.write.operation))
            timings.lap(\.write)
            await TestPause.at(.afterWriteBeforeRecord, logger: logger)
            var after = EngineCommit()
            var completed: [[ChangeDecision]] = []
            var failedDecisions: [ChangeDecision] = []
            var again: [DocumentWork] = []
            var refusedForNow: [DocumentWork] = []
            var requestError: OpenSearchError?
            var rereadError: (any Error)?
            var blocked: String?
            var landed = 0
            var conflicted: [(work: DocumentWork, write: PlannedWrite, decisions: [ChangeDecision], intentID: Int64)] = []
            // A write that landed: its intent is completed with its decisions' moves, carrying `response`.
            func complete(_ intentID: Int64, _ decisions: [ChangeDecision], response: String) {
                landed += 1
                let settlements = Self.carryingResponse(decisions.compactMap { $0.transition.map { Settlement($0) } }, response)
                after.completions.append(IntentCompletion(intentID: intentID, settlements: settlements))
                completed.append(decisions)
            }
            for ((work, write, decisions), (intentID, outcome)) in zip(writes, zip(recorded.intentIDs, outcomes)) {
                switch outcome {
                case .failure(let error):
                    // Whether it landed is unknown: the intent stays open for the next pass to resolve.
                    requestError = error
                    markUnavailable([work], "writing to search failed: \(error)", in: &execution)
                case .success(let item) where item.isSuccess:
                    complete(intentID, decisions, response: WritePlanner.response(written: write.written, item: item))
                case .success(let item) where item.status == 409:
                    conflicted.append((work, write, decisions, intentID))
                case .success(let item) where item.isRetryable:
                    after.droppedIntents.append(intentID)
                    refusedForNow.append(work)
                    markUnavailable([work], "search refused the write for now (\(item.status))", in: &execution)
                case .success(let item) where item.errorType == "cluster_block_exception":
                    after.droppedIntents.append(intentID)
                    blocked = "search refuses writes: \(item.errorReason ?? "cluster_block_exception")"
                    markUnavailable([work], blocked!, in: &execution)
                case .success(let item):
                    // The document's own error: it counts toward parking.
                    after.droppedIntents.append(intentID)
                    let message =
                        "OpenSearch \(item.status) \(item.errorType ?? "error"): \(item.errorReason ?? "no reason given")"
                    for decision in decisions {
                        if case .replay = work {
                            failedDecisions.append(planner.failure(decision.change, message, context))
                        } else {
                            execution.results[decision.change.id] = OperationResult(
                                id: decision.change.id, outcome: .failed, status: decision.change.status, message: message)
                        }
                    }
                }
            }
            // A 409 is another writer's change, decided again next round, or this write itself,
            // landed by an attempt whose answer was lost and refused when the request was sent
            // again: search shows which (the write's stamp is unique to it).
            // Search failing to answer that read is an outage like any other: whether those writes
            // landed stays unknown, their intents stay open for the next pass to resolve, and
            // nothing is counted against their changes.
            if !conflicted.isEmpty {
                do {
                    let live = try await openSearch.multiGet(index: index, ids: conflicted.map(\.work.documentID))
                    for (work, write, decisions, intentID) in conflicted {
                        let document = live[work.documentID]
                        guard Self.landed(write, live: document) else {
                            after.droppedIntents.append(intentID)
                            again.append(work)
                            continue
                        }
                        complete(
                            intentID, decisions, response: WritePlanner.response(written: write.written, recovered: document))
                    }
                } catch {
                    rereadError = error
                    markUnavailable(
                        conflicted.map(\.work), "reading search after a 409 failed: \(error)", in: &execution)
                }
            }
            after.settlements = failedDecisions.compactMap { $0.transition.map { Settlement($0) } }
            let done = try await auditLog.commit(after, at: Date(), fence: fence, claims: claims)
            timings.lap(\.recordOutcomes)
            logger.debug(
                "round \(round) of \(pending.count) documents: \(timings)",
                metadata: ["writes": "\(writes.count)", "tableReads": "\(needingTable.count)"])
            execution.writes += landed
            for (decision, result) in zip(failedDecisions, done.settlements) {
                execution.results[decision.change.id] = try await self.result(decision, result)
            }
            for (decisions, results) in zip(completed, done.completions) {
                for (index, decision) in decisions.enumerated() {
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
            if let requestError {
                ReprocessorMetrics.recordFailure(requestError)
                execution.outage = "writing to search failed: \(requestError)"
                return execution
            }
            if let rereadError {
                ReprocessorMetrics.recordFailure(rereadError)
                execution.outage = "reading search after a 409 failed: \(rereadError)"
                return execution
            }
            if let blocked {
                execution.outage = blocked
                return execution
            }
            if landed == 0 && again.isEmpty && !refusedForNow.isEmpty && failedDecisions.isEmpty {
                execution.outage = "search refused every write of a batch for now (429 or 5xx)"
                return execution
            }
            pending = again + refusedForNow
        }
        return execution
    }

    /// Where a round's time went, logged at debug level: each phase in milliseconds.
    struct RoundTimings: CustomStringConvertible {
        var searchRead = Duration.zero
        var auditRead = Duration.zero
        var tableRead = Duration.zero
        var planning = Duration.zero
        var recordIntents = Duration.zero
        var write = Duration.zero
        var recordOutcomes = Duration.zero
        private var mark = ContinuousClock.now

        /// Adds the time since the previous lap to `phase`.
        mutating func lap(_ phase: WritableKeyPath<RoundTimings, Duration>) {
            let now = ContinuousClock.now
            self[keyPath: phase] += now - mark
            mark = now
        }

        var description: String {
            let phases: [(String, Duration)] = [
                ("search read", searchRead), ("audit read", auditRead), ("table read", tableRead), ("planning", planning),
                ("recording intents", recordIntents), ("write", write), ("recording outcomes", recordOutcomes),
            ]
            return phases.map { name, duration in "\(name) \(Int((duration / .milliseconds(1)).rounded())) ms" }
                .joined(separator: ", ")
        }
    }

    func plan(_ work: DocumentWork, facts: DocumentFacts, context: WritePlanner.Context) -> DocumentPlan {
        switch work {
        case .replay(_, let changes): planner.replay(changes, facts: facts, context: context)
        case .rollback(let change, _, let force): planner.rollback(change, facts: facts, force: force, context: context)
        case .resync(let change, _): planner.resync(change, facts: facts, context: context)
        }
    }

    /// Marks the changes of `works` not yet settled as left due because a dependency failed.
    func markUnavailable(_ works: [DocumentWork], _ message: String, in execution: inout Execution) {
        for work in works {
            for change in work.changes {
                execution.results[change.id] = OperationResult(
                    id: change.id, outcome: .unavailable, status: change.status,
                    message: "\(message); nothing counted against the change, it stays due")
            }
        }
    }

    /// The result of a recorded decision: as planned, or `conflict` when another process moved the change first.
    func result(_ decision: ChangeDecision, _ recorded: Result<ChangeStatus, AuditLogError>) async throws -> OperationResult {
        switch recorded {
        case .success(let status):
            logger.log(
                level: decision.outcome.isFailure ? .warning : .info, "change \(status.rawValue): \(decision.message)",
                metadata: Self.metadata(decision.change))
            return OperationResult(id: decision.change.id, outcome: decision.outcome, status: status, message: decision.message)
        case .failure(let refusal):
            let current = try await auditLog.change(id: decision.change.id)
            return OperationResult(
                id: decision.change.id, outcome: refusal.code == .notFound ? .notFound : .conflict, status: current?.status,
                message:
                    "another process moved the change first (now \(current?.status.rawValue ?? "gone")); nothing recorded for it here"
            )
        }
    }

    /// A decision as a dry run reports it.
    static func dryRunResult(_ decision: ChangeDecision, work: DocumentWork) -> OperationResult {
        let outcome: ChangeOutcome
        switch (work, decision.outcome) {
        case (_, .refused), (_, .conflict), (_, .notFound): outcome = decision.outcome
        case (.replay, _): outcome = .wouldRetry
        case (.rollback, _): outcome = .wouldRollBack
        case (.resync, _): outcome = .wouldResync
        }
        return OperationResult(
            id: decision.change.id, outcome: outcome, status: decision.change.status,
            message: "would be \(decision.outcome.rawValue): \(decision.message)")
    }

    static func metadata(_ change: ChangeRecord) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "changeId": "\(change.id)", "documentId": "\(change.documentID ?? "")",
            "sequenceNumber": "\(change.sequenceNumber)",
        ]
        if let correlationID = change.correlationID { metadata["correlationId"] = "\(correlationID)" }
        return metadata
    }
}
