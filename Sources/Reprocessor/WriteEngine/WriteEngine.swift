import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization

/// The write engine (DESIGN §5): every write to search goes through it, whoever asks —
/// scheduled replay, operator retry, rollback and resync, reconcile repairs, from the CLI, the
/// API or the loop.
///
/// Per batch of documents it reads search once (`_mget`), the audit log once, the table once
/// per 100 keys that need it (consistent `BatchGetItem`), lets the planners decide each
/// document, records the intent of every write, sends one conditional `_bulk`, and records
/// every outcome in one transaction. Items refused with 409 are decided again (bounded).
/// When search as a whole fails, the pass stops without counting attempts against changes.
/// A round runs as named phases (`WriteEngine+Phases.swift`): gather, plan, record intents,
/// send, classify, record.
public struct WriteEngine: Sendable {
    let auditLog: AuditLog
    /// The search client reconcile walks the index with (the engine's own reads and writes go through ``search``).
    let openSearch: OpenSearchClient
    /// The table reader reconcile scans with (the engine's own reads go through ``items``).
    let table: TableReader
    /// Search as the engine reads and writes it: ``openSearch`` in production.
    let search: any EngineSearch
    /// The table as the engine reads it: ``table`` in production.
    let items: any EngineTable
    /// The time of every decision and record: the system clock in production.
    let clock: @Sendable () -> Date
    /// Waits between rounds of re-deciding: `Task.sleep` in production, the simulated clock in the simulation.
    let sleep: @Sendable (Duration) async -> Void
    /// The planners.
    public let planner: WritePlanner
    let logger: Logger
    /// Documents per round (`_mget` + `_bulk`).
    let batchDocuments: Int
    /// Rounds of re-deciding after 409s, or retrying items search refused for the moment.
    let rounds = 3
    /// Due changes read from the audit log at a time.
    let pageSize = 1000
    /// Rounds of a pass under way at once (each on its own documents): one reads search and the
    /// audit log, one reads the table, and one records and writes (a slow write then does
    /// not stall the table reads). 3 in production; the simulation runs 1, so that the order of
    /// its I/O is the seed's, not the thread scheduler's.
    let roundsInFlight: Int
    /// How long a write intent may stay open before the next pass decides its write never landed.
    let intentGrace: TimeInterval
    /// The run lease this engine works under: every step it records, and every write it is about
    /// to send, is refused once the lease moved to another holder.
    let fence: LeaseFence?
    /// The worker this engine claims its documents as: see ``claiming(as:ttl:)``.
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
            #if DEBUG
                // The past defect: every task of a process claims as the process, and so takes the
                // claims another of its tasks holds (a claimant's own claims are claimed again).
                if EngineMutation.on(.stealOwnClaims) { return holder }
            #endif
            return "\(holder)#\(Self.tasks.add(1, ordering: .relaxed).newValue)"
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
        self.init(
            auditLog: auditLog, openSearch: openSearch, table: table, search: openSearch, items: table, planner: planner,
            batchDocuments: batchDocuments, intentGrace: intentGrace, clock: { Date() },
            sleep: { try? await Task.sleep(for: $0) }, roundsInFlight: 3, logger: logger)
    }

    /// Creates an engine whose search, table and clock are given apart from the clients reconcile
    /// scans with: the deterministic simulation's world (`Tests/SimulationTests`).
    init(
        auditLog: AuditLog, openSearch: OpenSearchClient, table: TableReader, search: any EngineSearch,
        items: any EngineTable, planner: WritePlanner, batchDocuments: Int, intentGrace: TimeInterval,
        clock: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async -> Void, roundsInFlight: Int,
        logger: Logger
    ) {
        self.auditLog = auditLog
        self.openSearch = openSearch
        self.table = table
        self.search = search
        self.items = items
        self.clock = clock
        self.sleep = sleep
        self.planner = planner
        self.batchDocuments = max(1, batchDocuments)
        self.intentGrace = intentGrace
        self.roundsInFlight = max(1, roundsInFlight)
        self.logger = logger
        self.fence = nil
        self.claimant = nil
    }

    private init(_ engine: WriteEngine, fence: LeaseFence?, claimant: Claimant?) {
        auditLog = engine.auditLog
        openSearch = engine.openSearch
        table = engine.table
        search = engine.search
        items = engine.items
        clock = engine.clock
        sleep = engine.sleep
        roundsInFlight = engine.roundsInFlight
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

    /// This engine as one worker of those sharing a store (a fleet on PostgreSQL; on SQLite the
    /// replayer and the operator commands beside it): before it decides a round of documents it
    /// claims them (``AuditLog/claimDocuments(_:holder:ttl:now:)``), and
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

    /// ``claimant``, unless the simulation undid claims on SQLite (``EngineMutation/unclaimedOnSQLite``).
    var claiming: Claimant? {
        #if DEBUG
            if EngineMutation.on(.unclaimedOnSQLite), !auditLog.isShared { return nil }
        #endif
        return claimant
    }

    var index: String { planner.transform.index }

    /// Checks that OpenSearch answers (`GET /`), for readiness and before resuming after an outage.
    /// - Throws: `OpenSearchError` when it cannot be reached or refuses.
    public func checkSearch() async throws {
        try await search.ping()
    }

    /// The document search holds now for `documentID` (its `_source`), as an operator compares it
    /// with a change's images.
    /// - Parameter documentID: The search document id.
    /// - Returns: The document's source, or nil when search has none.
    /// - Throws: `OpenSearchError` when search cannot be reached or refuses.
    public func liveDocument(_ documentID: String) async throws -> JSONValue? {
        try await search.get(index: index, id: documentID)?.source
    }

    /// Runs `body` with those of `documentIDs` this worker could claim when it claims documents
    /// (`nil` otherwise: it works alone, under the run lease), and gives the claims back when
    /// `body` returns or throws, so other workers may take the documents at once.
    func withClaims<T>(_ documentIDs: [String], _ body: (DocumentClaims?) async throws -> T) async throws -> T {
        guard let claimant = claiming else { return try await body(nil) }
        let claims = try await auditLog.claimDocuments(
            documentIDs, holder: claimant.task(), ttl: claimant.ttl, now: clock())
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

    /// Marks the changes of `works` not yet settled as left due because a dependency failed (a
    /// repair as not made).
    func markUnavailable(_ works: [DocumentWork], _ message: String, in execution: inout Execution) {
        for work in works {
            if work.repairOrder != nil { execution.repairs[work.documentID] = .unavailable }
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
        case (.resync, _), (.repair, _): outcome = .wouldResync
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
