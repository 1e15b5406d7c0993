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

/// The result of an operator command on one change (`{"id", "outcome", "status", "message"}` in JSON).
public struct OperationResult: Sendable, Hashable, Codable {
    /// The change.
    public var id: Int64
    /// What happened: applied, superseded, failed, parked, deferred, skipped, rolled_back, resynced,
    /// conflict, refused, not_found, or would_… in a dry run.
    public var outcome: String
    /// The change's status afterwards (empty when the change does not exist).
    public var status: String
    /// One line saying why.
    public var message: String

    /// Whether the outcome means the command did not do what was asked.
    public var isFailure: Bool { ["failed", "parked", "conflict", "refused", "not_found"].contains(outcome) }
}

/// Retry, skip, rollback and resync (DESIGN §5 and §6), for one change, a list, or a filter.
public struct OperatorActions: Sendable {
    let auditLog: AuditLog
    let replayer: ChangeReplayer?
    let logger: Logger

    /// Creates the operator actions.
    /// - Parameters:
    ///   - auditLog: The audit log.
    ///   - replayer: Needed by retry, rollback and resync; skip works without it.
    ///   - logger: The logger.
    public init(auditLog: AuditLog, replayer: ChangeReplayer?, logger: Logger) {
        self.auditLog = auditLog
        self.replayer = replayer
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
    }

    /// Runs `command` on every change the request names, reporting each result as it is known.
    ///
    /// - Parameters:
    ///   - command: What to do.
    ///   - request: Which changes, who, why, dry run, force, rate.
    ///   - report: Called once per change, in order.
    /// - Throws: ``ReprocessorError`` for a request that cannot be carried out at all (no reason
    ///   for skip or rollback, nothing chosen); audit-log errors.
    public func perform(
        _ command: Command, _ request: OperatorRequest, report: @Sendable (OperationResult) async throws -> Void
    ) async throws {
        if command == .skip || command == .rollback, (request.reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ReprocessorError(.invalidRequest, "\(command.rawValue) needs a reason: pass --reason \"why\"")
        }
        if request.ids.isEmpty && request.filter == nil {
            throw ReprocessorError(.invalidRequest, "name change ids or a filter (for example --status parked)")
        }
        var pacer = Pacer(ratePerSecond: request.ratePerSecond)
        if !request.ids.isEmpty {
            for id in request.ids {
                await pacer.wait()
                guard let change = try await auditLog.change(id: id) else {
                    try await report(
                        OperationResult(id: id, outcome: "not_found", status: "", message: "no change with id \(id)"))
                    continue
                }
                try await report(try await perform(command, on: change, request))
            }
            return
        }
        guard let filter = request.filter else { return }
        var cursor: String?
        repeat {
            let page = try await auditLog.listChanges(filter, after: cursor, limit: 200)
            cursor = page.next
            for change in page.rows {
                await pacer.wait()
                try await report(try await perform(command, on: change, request))
            }
        } while cursor != nil
    }

    func perform(_ command: Command, on change: ChangeRecord, _ request: OperatorRequest) async throws -> OperationResult {
        switch command {
        case .retry: return try await retry(change, request)
        case .skip: return try await skip(change, request)
        case .rollback: return try await rollback(change, request)
        case .resync: return try await resync(change, request)
        }
    }

    func refuse(_ change: ChangeRecord, _ message: String) -> OperationResult {
        OperationResult(id: change.id, outcome: "refused", status: change.status.rawValue, message: message)
    }

    func requireReplayer() throws -> ChangeReplayer {
        guard let replayer else {
            throw ReprocessorError(.invalidRequest, "this command needs OpenSearch and table settings")
        }
        return replayer
    }

    // MARK: retry

    func retry(_ change: ChangeRecord, _ request: OperatorRequest) async throws -> OperationResult {
        switch change.status {
        case .applied:
            return refuse(change, "already applied; use resync to rewrite it from the table")
        case .filtered:
            return refuse(change, "not an artist record; filtered changes are never applied")
        case .expired:
            return refuse(change, "its records left the stream; use resync")
        case .pending, .failed, .parked, .rolledBack, .skipped, .superseded:
            break
        }
        if request.dryRun {
            return OperationResult(
                id: change.id, outcome: "would_retry", status: change.status.rawValue,
                message: "would replay \(change.eventName?.rawValue ?? "change") of \(change.documentID ?? "?")")
        }
        let replayer = try requireReplayer()
        var current = change
        if change.status != .pending {
            current = try await auditLog.transition(
                change.id, to: .pending, expecting: [change.status],
                update: ChangeUpdate(attempts: 0, nextAttemptAt: .some(nil)),
                action: ActionEntry(action: .retried, actor: request.actor, reason: request.reason, outcome: "queued for replay"),
                at: Date())
        }
        guard let result = try await replayer.apply([current], actor: request.actor, reason: request.reason).first else {
            return refuse(change, "nothing was applied")
        }
        return OperationResult(
            id: change.id, outcome: result.outcome.rawValue, status: result.status.rawValue, message: result.message)
    }

    // MARK: skip

    func skip(_ change: ChangeRecord, _ request: OperatorRequest) async throws -> OperationResult {
        guard [.pending, .failed, .parked, .expired].contains(change.status) else {
            return refuse(
                change, "only pending, failed, parked or expired changes can be skipped (this one is \(change.status.rawValue))")
        }
        if request.dryRun {
            return OperationResult(
                id: change.id, outcome: "would_skip", status: change.status.rawValue, message: "would mark as skipped")
        }
        let updated = try await auditLog.transition(
            change.id, to: .skipped, expecting: [change.status],
            action: ActionEntry(action: .skipped, actor: request.actor, reason: request.reason, outcome: "skipped"),
            at: Date())
        logger.info("change skipped by \(request.actor)", metadata: ["changeId": "\(change.id)"])
        return OperationResult(id: change.id, outcome: "skipped", status: updated.status.rawValue, message: "marked as skipped")
    }

    // MARK: rollback

    func rollback(_ change: ChangeRecord, _ request: OperatorRequest) async throws -> OperationResult {
        guard change.status == .applied else {
            return refuse(change, "only applied changes can be rolled back (this one is \(change.status.rawValue))")
        }
        guard let documentID = change.documentID, let eventName = change.eventName else {
            return refuse(change, "change has no artist document")
        }
        let replayer = try requireReplayer()
        let live = try await replayer.openSearch.get(index: replayer.transform.index, id: documentID)
        let liveSequence = live.flatMap { SyncTransform.syncedSequenceNumber(in: $0.source) }
        let reflects: Bool
        switch eventName {
        case .remove:
            reflects = live == nil
        case .insert, .modify:
            reflects =
                liveSequence == change.sequenceNumber
                && ChangeReplayer.liveEventName(live) == eventName.rawValue
        }
        if !reflects && !request.force {
            let liveText =
                live == nil
                ? "the document is absent" : "the live document carries sequence \(liveSequence?.description ?? "none")"
            let message =
                "conflict: \(liveText), not this change's sequence \(change.sequenceNumber); pass --force to roll back anyway"
            if !request.dryRun {
                _ = try await auditLog.appendAction(
                    changeID: change.id, messageID: nil,
                    ActionEntry(action: .conflict, actor: request.actor, reason: request.reason, outcome: message), at: Date())
            }
            return OperationResult(id: change.id, outcome: "conflict", status: change.status.rawValue, message: message)
        }
        let restoresDelete = eventName == .insert || change.oldImage == nil
        if request.dryRun {
            return OperationResult(
                id: change.id, outcome: "would_roll_back", status: change.status.rawValue,
                message: restoresDelete ? "would delete document \(documentID)" : "would restore the old image of \(documentID)")
        }
        let condition = live.map { WriteCondition.ifSeqNo($0.seqNo, primaryTerm: $0.primaryTerm) }
        var written: JSONValue = .null
        do {
            if restoresDelete {
                if live != nil {
                    _ = try await replayer.openSearch.delete(
                        index: replayer.transform.index, id: documentID, condition: condition)
                }
            } else if let oldImage = change.oldImage {
                let stamp = SyncStamp(
                    sequenceNumber: change.sequenceNumber, eventName: eventName,
                    approximateCreationTime: change.approximateCreationTime, appliedAt: Date())
                written = Self.markedAsRollback(replayer.transform.document(for: oldImage, stamp: stamp))
                _ = try await replayer.openSearch.index(
                    index: replayer.transform.index, id: documentID, document: written,
                    condition: condition ?? .createOnly)
            }
        } catch {
            guard error.code == .conflict else {
                return OperationResult(id: change.id, outcome: "failed", status: change.status.rawValue, message: "\(error)")
            }
            return OperationResult(
                id: change.id, outcome: "conflict", status: change.status.rawValue,
                message: "the document changed while rolling back; nothing written, try again")
        }
        let outcome = restoresDelete ? "document deleted (the change was an insert)" : "old image restored"
        let updated = try await auditLog.transition(
            change.id, to: .rolledBack, expecting: [.applied],
            action: ActionEntry(
                action: .rolledBack, actor: request.actor, reason: request.reason,
                outcome: request.force && !reflects ? "\(outcome) (forced)" : outcome,
                response: JSONValue.object(["written": written]).serialized),
            at: Date())
        logger.info(
            "change rolled back by \(request.actor)", metadata: ["changeId": "\(change.id)", "documentId": "\(documentID)"])
        return OperationResult(id: change.id, outcome: "rolled_back", status: updated.status.rawValue, message: outcome)
    }

    /// A rolled-back document keeps the change's sequence number (so older changes
    /// stay superseded) but says `ROLLBACK`, so a later retry of the same change writes again.
    static func markedAsRollback(_ document: JSONValue) -> JSONValue {
        guard case .object(var fields) = document, case .object(var sync)? = fields["sync"] else { return document }
        sync["eventName"] = .string("ROLLBACK")
        fields["sync"] = .object(sync)
        return .object(fields)
    }

    // MARK: resync

    func resync(_ change: ChangeRecord, _ request: OperatorRequest) async throws -> OperationResult {
        guard [.pending, .failed, .parked, .applied, .rolledBack, .expired].contains(change.status) else {
            return refuse(change, "a \(change.status.rawValue) change cannot be resynced")
        }
        guard let documentID = change.documentID, let keys = change.keys else {
            return refuse(
                change,
                "this batch left the stream before its records were read, so its keys are unknown; resync the artists it touched by their change ids or skip it"
            )
        }
        if request.dryRun {
            return OperationResult(
                id: change.id, outcome: "would_resync", status: change.status.rawValue,
                message: "would make \(documentID) match the table's current item")
        }
        let replayer = try requireReplayer()
        let index = replayer.transform.index
        let outcome: String
        let written: JSONValue
        do {
            let item = try await replayer.table.currentItem(keys: keys)
            let live = try await replayer.openSearch.get(index: index, id: documentID)
            let condition = live.map { WriteCondition.ifSeqNo($0.seqNo, primaryTerm: $0.primaryTerm) }
            if let item {
                // The table is at least as new as anything in search or the log, so
                // the stamp never moves back: take the newest sequence known.
                var sequence = change.sequenceNumber
                if let liveSequence = live.flatMap({ SyncTransform.syncedSequenceNumber(in: $0.source) }), liveSequence > sequence
                {
                    sequence = liveSequence
                }
                if let latest = try await auditLog.latestAppliedSequence(documentID: documentID), latest > sequence {
                    sequence = latest
                }
                let stamp = SyncStamp(
                    sequenceNumber: sequence, eventName: .modify, approximateCreationTime: nil, appliedAt: Date())
                written = replayer.transform.document(for: item, stamp: stamp)
                _ = try await replayer.openSearch.index(
                    index: index, id: documentID, document: written, condition: condition ?? .createOnly)
                outcome = "document matches the table's current item"
            } else {
                written = .null
                if live != nil {
                    _ = try await replayer.openSearch.delete(index: index, id: documentID, condition: condition)
                }
                outcome = "item gone from the table; document deleted"
            }
        } catch let error as OpenSearchError where error.code == .conflict {
            return OperationResult(
                id: change.id, outcome: "conflict", status: change.status.rawValue,
                message: "the document changed during the resync; nothing written, try again")
        } catch {
            return OperationResult(id: change.id, outcome: "failed", status: change.status.rawValue, message: "\(error)")
        }
        let updated = try await auditLog.transition(
            change.id, to: .applied, expecting: [change.status],
            update: ChangeUpdate(nextAttemptAt: .some(nil), lastError: .some(nil)),
            action: ActionEntry(
                action: .resynced, actor: request.actor, reason: request.reason, outcome: outcome,
                response: JSONValue.object(["written": written]).serialized),
            at: Date())
        logger.info("change resynced by \(request.actor)", metadata: ["changeId": "\(change.id)", "documentId": "\(documentID)"])
        return OperationResult(id: change.id, outcome: "resynced", status: updated.status.rawValue, message: outcome)
    }
}

/// Spaces operations out to at most a given rate.
struct Pacer {
    let interval: Duration?
    var next = ContinuousClock.now

    init(ratePerSecond: Double?) {
        if let ratePerSecond, ratePerSecond > 0 {
            interval = .nanoseconds(Int64(1e9 / ratePerSecond))
        } else {
            interval = nil
        }
    }

    mutating func wait() async {
        guard let interval else { return }
        let now = ContinuousClock.now
        if next > now { try? await Task.sleep(until: next, clock: .continuous) }
        next = max(next, now) + interval
    }
}
