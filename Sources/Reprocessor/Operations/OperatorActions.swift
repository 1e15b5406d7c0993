import AuditLog
import Foundation
import Logging
import OpenSearchClient
import StreamModel
import SyncTransform

/// Which changes an operator command acts on, and how.
public struct OperatorRequest: Sendable {
    /// Changes named by id.
    public var ids: [Int64]
    /// Changes chosen by filter (used when `ids` is empty).
    public var filter: ChangeFilter?
    /// Who asks; recorded on every action.
    public var actor: String
    /// Why; required for skip and rollback.
    public var reason: String?
    /// Report what would happen, change nothing.
    public var dryRun: Bool
    /// Roll back even when the live document no longer reflects the change.
    public var force: Bool
    /// At most this many changes per second (`nil`: no limit).
    public var ratePerSecond: Double?

    /// Creates a request.
    public init(
        ids: [Int64] = [], filter: ChangeFilter? = nil, actor: String, reason: String? = nil, dryRun: Bool = false,
        force: Bool = false, ratePerSecond: Double? = nil
    ) {
        self.ids = ids
        self.filter = filter
        self.actor = actor
        self.reason = reason
        self.dryRun = dryRun
        self.force = force
        self.ratePerSecond = ratePerSecond
    }
}

extension OperatorRequest {
    /// Checks every rule of a request, dry run or not, for every front end: the changes named by
    /// ids or chosen by a filter (one of the two), a reason for the commands that
    /// ``OperatorActions/Command/requiresReason``, `force` for rollback only, a rate within
    /// ``OperatorInput/rateRange`` and ids within ``OperatorInput/idRange``.
    /// - Throws: ``RequestError`` naming the field.
    public func validate(for command: OperatorActions.Command) throws(RequestError) {
        if ids.isEmpty && filter == nil {
            throw RequestError(
                .ids, "are required, or a filter: name changes by id, or choose them with a filter (for example status parked)")
        }
        if !ids.isEmpty && filter != nil {
            throw RequestError(.filter, "cannot go with change ids: give one or the other")
        }
        try RequestError.checkReason(
            reason, required: command.requiresReason ? "for \(command.rawValue): it is recorded with every change" : nil)
        if force && command != .rollback {
            throw RequestError(.force, "applies to rollback only")
        }
        do {
            _ = try ratePerSecond.map { (rate) throws(InputError) in try OperatorInput.rate(rate, field: "rate") }
        } catch {
            throw RequestError(.rate, error)
        }
        do {
            for id in ids { _ = try OperatorInput.id(id, field: "ids") }
        } catch {
            throw RequestError(.ids, error)
        }
    }
}

/// Retry, skip, rollback and resync (DESIGN §5 and §6), for one change, a list, or a filter.
///
/// Every write goes through the ``WriteEngine``; this type chooses the changes, checks what
/// each command allows, paces the work and reports one result per change. A change another
/// process moved first is a per-change `conflict`, never an aborted batch.
public struct OperatorActions: Sendable {
    let auditLog: AuditLog
    let engine: WriteEngine?
    let logger: Logger
    /// Changes read and carried out together (one engine round) when no rate is set.
    let batchSize = 200

    /// Creates the operator actions.
    /// - Parameters:
    ///   - auditLog: The audit log.
    ///   - engine: Needed by retry, rollback and resync; skip works without it.
    ///   - logger: The logger.
    public init(auditLog: AuditLog, engine: WriteEngine?, logger: Logger) {
        self.auditLog = auditLog
        self.engine = engine
        self.logger = logger
    }

    /// The operator commands.
    public enum Command: String, Sendable, CaseIterable {
        /// Replay now.
        case retry
        /// Mark as deliberately not applied.
        case skip
        /// Restore the old image in OpenSearch.
        case rollback
        /// Make the document match the table's current item.
        case resync

        /// Whether the command writes to search (and so needs the engine), dry run or not.
        public var writesToSearch: Bool { self != .skip }

        /// Whether a request needs a reason, dry run or not (skip and rollback): the reason is
        /// part of what the operator asks, so a preview runs with the one that will be recorded.
        public var requiresReason: Bool { self == .skip || self == .rollback }
    }

    /// Runs `command` on every change the request names, reporting each result as it is known.
    ///
    /// A filter that names no status (nor ids) acts only on the statuses the command reaches by filter
    /// (``Command/filterStatuses``): retry and resync on pending, failed and parked changes, so
    /// a skipped, rolled-back, superseded or applied change is reached only by its id or by
    /// asking for its status. The changes the filter matched and left out are counted, not reported.
    ///
    /// - Parameters:
    ///   - command: What to do.
    ///   - request: Which changes, who, why, dry run, force, rate.
    ///   - report: Called once per change, in order.
    /// - Returns: The changes a filter without statuses matched and left out (none for ids).
    /// - Throws: ``RequestError`` for a request its rules refuse (``OperatorRequest/validate(for:)``);
    ///   ``ReprocessorError`` `.invalidRequest` when a command that writes has no engine; audit-log errors.
    @discardableResult
    public func perform(
        _ command: Command, _ request: OperatorRequest, report: @Sendable (OperationResult) async throws -> Void
    ) async throws -> LeftOutChanges {
        try request.validate(for: command)
        if command.writesToSearch && engine == nil {
            throw ReprocessorError(.invalidRequest, "\(command.rawValue) needs the OpenSearch and table settings")
        }
        let pacer = RatePacer(ratePerSecond: request.ratePerSecond)
        let chunk = request.ratePerSecond == nil ? batchSize : 1
        func run(_ changes: [ChangeRecord], paced: Bool = true) async throws {
            for start in stride(from: 0, to: changes.count, by: chunk) {
                let part = Array(changes[start..<min(start + chunk, changes.count)])
                if paced { for _ in part { await pacer.wait() } }
                let results = try await perform(command, on: part, request)
                for change in part {
                    if let result = results[change.id] {
                        try await report(result)
                    } else {
                        try await report(
                            OperationResult(
                                id: change.id, outcome: .conflict, status: try await auditLog.change(id: change.id)?.status,
                                message: "another process moved the change first"))
                    }
                }
            }
        }
        if !request.ids.isEmpty {
            for start in stride(from: 0, to: request.ids.count, by: batchSize) {
                let ids = Array(request.ids[start..<min(start + batchSize, request.ids.count)])
                // Named ids are paced as they are looked up, unknown ones included.
                var found: [ChangeRecord] = []
                for id in ids {
                    await pacer.wait()
                    if let change = try await auditLog.change(id: id) {
                        found.append(change)
                        if found.count == chunk {
                            try await run(found, paced: false)
                            found = []
                        }
                    } else {
                        try await run(found, paced: false)
                        found = []
                        try await report(
                            OperationResult(id: id, outcome: .notFound, status: nil, message: "no change with id \(id)"))
                    }
                }
                try await run(found, paced: false)
            }
            return LeftOutChanges()
        }
        guard var filter = request.filter else { return LeftOutChanges() }
        var leftOut = LeftOutChanges()
        // A filter that lists ids names its changes, as request ids do: it reaches any status.
        if filter.statuses.isEmpty && filter.ids == nil {
            leftOut = try await countLeftOut(by: command, filter)
            filter.statuses = command.filterStatuses
        }
        var cursor: String?
        repeat {
            let page = try await auditLog.listChanges(filter, after: cursor, limit: batchSize)
            cursor = page.next
            try await run(page.rows)
        } while cursor != nil
        if let summary = leftOut.summary(for: command) {
            logger.info("\(command.rawValue) by \(request.actor): \(summary)")
        }
        return leftOut
    }

    /// The changes `filter` (which names no status) matches in a status `command` does not
    /// reach by filter, counted per status.
    func countLeftOut(by command: Command, _ filter: ChangeFilter) async throws -> LeftOutChanges {
        var outside = filter
        outside.statuses = Set(ChangeStatus.allCases).subtracting(command.filterStatuses)
        guard !outside.statuses.isEmpty else { return LeftOutChanges() }
        var counts: [ChangeStatus: Int] = [:]
        var cursor: String?
        repeat {
            let page = try await auditLog.listChanges(outside, after: cursor, limit: 1000)
            cursor = page.next
            for change in page.rows { counts[change.status, default: 0] += 1 }
        } while cursor != nil
        return LeftOutChanges(byStatus: counts)
    }

    /// Carries out `command` on `changes`; one result per change.
    func perform(_ command: Command, on changes: [ChangeRecord], _ request: OperatorRequest) async throws -> [Int64:
        OperationResult]
    {
        guard !changes.isEmpty else { return [:] }
        switch command {
        case .skip: return try await skip(changes, request)
        case .retry: return try await retry(changes, request)
        case .rollback, .resync:
            guard let engine else { return [:] }
            var results: [Int64: OperationResult] = [:]
            var works: [DocumentWork] = []
            for change in changes {
                guard let documentID = change.documentID else {
                    results[change.id] = refusal(change, "change has no artist document")
                    continue
                }
                works.append(
                    command == .rollback
                        ? .rollback(change, documentID: documentID, force: request.force)
                        : .resync(change, documentID: documentID))
            }
            // One work per document per engine round: a second change of a document waits for the next.
            for wave in Self.waves(works) {
                let execution = try await engine.execute(wave, context: context(request), dryRun: request.dryRun)
                results.merge(execution.results) { _, new in new }
            }
            return results
        }
    }

    func context(_ request: OperatorRequest) -> WritePlanner.Context {
        WritePlanner.Context(actor: request.actor, reason: request.reason, now: now())
    }

    /// The time of a decision or a record: the engine's clock (the system clock in production).
    func now() -> Date {
        engine?.clock() ?? Date()
    }

    func refusal(_ change: ChangeRecord, _ message: String) -> OperationResult {
        OperationResult(id: change.id, outcome: .refused, status: change.status, message: message)
    }

    /// Splits works into rounds in which each document appears at most once, keeping their order.
    static func waves(_ works: [DocumentWork]) -> [[DocumentWork]] {
        var waves: [[DocumentWork]] = []
        var documents: [Set<String>] = []
        for work in works {
            let index = documents.firstIndex { !$0.contains(work.documentID) } ?? documents.count
            if index == waves.count {
                waves.append([])
                documents.append([])
            }
            waves[index].append(work)
            documents[index].insert(work.documentID)
        }
        return waves
    }

    // MARK: retry

    /// Retry: each change goes back to pending (unless another process moved it), then its document's
    /// due changes are replayed together by the engine.
    func retry(_ changes: [ChangeRecord], _ request: OperatorRequest) async throws -> [Int64: OperationResult] {
        guard let engine else { return [:] }
        var results: [Int64: OperationResult] = [:]
        var chosen: [ChangeRecord] = []
        for change in changes {
            guard Command.retry.applies(to: change.status) else {
                results[change.id] = refusal(change, Self.retryRefusal(change.status))
                continue
            }
            if change.documentID == nil {
                results[change.id] = refusal(change, "change has no artist document")
            } else {
                chosen.append(change)
            }
        }
        var queued: [ChangeRecord] = []
        if request.dryRun {
            queued = chosen.map { change in
                var change = change
                change.status = .pending
                return change
            }
        } else {
            let requests = chosen.filter { $0.status != .pending }.map { change in
                TransitionRequest(
                    change.id, to: .pending, expecting: [change.status],
                    update: ChangeUpdate(attempts: 0, nextAttemptAt: .some(nil)),
                    action: ActionEntry(
                        action: .retried, actor: request.actor, reason: request.reason, outcome: "queued for replay"))
            }
            let moved = try await auditLog.transitions(requests, at: now())
            var refused: [Int64: ChangeRecord?] = [:]
            for (request, outcome) in zip(requests, moved) {
                if case .failure = outcome { refused[request.id] = try await auditLog.change(id: request.id) }
            }
            for change in chosen {
                if let current = refused[change.id] {
                    results[change.id] = OperationResult(
                        id: change.id, outcome: .conflict, status: current?.status,
                        message: "another process moved the change first (now \(current?.status.rawValue ?? "gone"))")
                } else {
                    queued.append(change)
                }
            }
        }
        guard !queued.isEmpty else { return results }
        // The documents' other due changes are decided with them: one write, the newest state.
        let due = try await auditLog.dueChanges(documentIDs: queued.compactMap(\.documentID), now: now())
        let works = DocumentWork.replays(of: due + (request.dryRun ? queued : []))
        let decided = Set(works.flatMap(\.changes).map(\.id))
        for change in queued where !decided.contains(change.id) {
            results[change.id] = OperationResult(
                id: change.id, outcome: .conflict, status: try await auditLog.change(id: change.id)?.status,
                message: "another process replayed the change first")
        }
        for start in stride(from: 0, to: works.count, by: engine.batchDocuments) {
            let batch = Array(works[start..<min(start + engine.batchDocuments, works.count)])
            let execution = try await engine.execute(batch, context: context(request), dryRun: request.dryRun)
            for change in queued {
                if let result = execution.results[change.id] { results[change.id] = result }
            }
        }
        if request.dryRun {
            // A dry run decided the changes as if they were pending; it reports where they stand.
            for change in chosen { results[change.id]?.status = change.status }
        }
        return results
    }

    /// Why retry refuses a change in `status` (one the command does not apply to).
    static func retryRefusal(_ status: ChangeStatus) -> String {
        switch status {
        case .applied: "already applied; use resync to rewrite it from the table"
        case .filtered: "not an artist record; filtered changes are never applied"
        case .expired: "its records left the stream; resolve it with resolve-expired"
        default: "a \(status.rawValue) change cannot be retried"
        }
    }

    // MARK: skip

    func skip(_ changes: [ChangeRecord], _ request: OperatorRequest) async throws -> [Int64: OperationResult] {
        var results: [Int64: OperationResult] = [:]
        var chosen: [ChangeRecord] = []
        for change in changes {
            guard Command.skip.applies(to: change.status) else {
                results[change.id] = refusal(
                    change,
                    "only pending, failed, parked or expired changes can be skipped (this one is \(change.status.rawValue))")
                continue
            }
            if request.dryRun {
                results[change.id] = OperationResult(
                    id: change.id, outcome: .wouldSkip, status: change.status, message: "would mark as skipped")
            } else {
                chosen.append(change)
            }
        }
        let requests = chosen.map { change in
            TransitionRequest(
                change.id, to: .skipped, expecting: [change.status],
                action: ActionEntry(action: .skipped, actor: request.actor, reason: request.reason, outcome: "skipped"))
        }
        let moved = try await auditLog.transitions(requests, at: now())
        for (change, outcome) in zip(chosen, moved) {
            switch outcome {
            case .success(let updated):
                logger.info("change skipped by \(request.actor)", metadata: ["changeId": "\(change.id)"])
                results[change.id] = OperationResult(
                    id: change.id, outcome: .skipped, status: updated.status, message: "marked as skipped")
            case .failure:
                let current = try await auditLog.change(id: change.id)
                results[change.id] = OperationResult(
                    id: change.id, outcome: .conflict, status: current?.status,
                    message: "another process moved the change first (now \(current?.status.rawValue ?? "gone"))")
            }
        }
        return results
    }
}
