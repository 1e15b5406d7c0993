import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform

/// The write engine's planners: pure functions from a document's changes and facts to a plan.
///
/// They hold every replay rule (DESIGN §5); the executor (``WriteEngine``) only gathers facts,
/// sends the writes and records what happened.
public struct WritePlanner: Sendable {
    /// `sync.eventName` of a document copied from the table's current item.
    public static let resyncMark = "RESYNC"
    /// `sync.eventName` of a document rolled back to a change's old image.
    public static let rollbackMark = "ROLLBACK"
    /// The statuses a change may be in to be rolled back.
    public static let rollbackStatuses: Set<ChangeStatus> = [.applied]
    /// The statuses a change may be in to be resynced.
    public static let resyncStatuses: Set<ChangeStatus> = [.pending, .failed, .parked, .applied, .rolledBack]

    /// The shared transform.
    public let transform: SyncTransform
    /// Failed applies before a change is parked.
    public let maxAttempts: Int
    /// The backoff between automatic tries.
    public let backoff: RetryPolicy

    /// Makes a planner.
    public init(transform: SyncTransform, maxAttempts: Int, backoff: RetryPolicy) {
        self.transform = transform
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
    }

    /// Who asks, why, and when: recorded on every action a plan makes.
    public struct Context: Sendable, Hashable {
        /// `system`, or the operator's name.
        public var actor: String
        /// The operator's reason.
        public var reason: String?
        /// The time of the decision (stamps and backoff).
        public var now: Date

        /// Makes a context.
        public init(actor: String, reason: String? = nil, now: Date) {
            self.actor = actor
            self.reason = reason
            self.now = now
        }
    }

    // MARK: Replay

    /// Replay: all due changes of one document are decided together, and search gets at most one
    /// write, the newest state; older changes settle as superseded.
    ///
    /// - Parameters:
    ///   - changes: The document's due changes (pending, or failed and due), in any order.
    ///   - facts: The live document, the audit facts and, once asked for, the table's item.
    ///   - context: Actor, reason, time.
    public func replay(_ changes: [ChangeRecord], facts: DocumentFacts, context: Context) -> DocumentPlan {
        let changes = changes.sorted { ($0.sequenceNumber, $0.id) < ($1.sequenceNumber, $1.id) }
        guard let newestDue = changes.last else { return .decided(write: nil, decisions: []) }
        if let blocker = facts.audit.blockers.first(where: {
            $0.sequenceNumber < newestDue.sequenceNumber && !changes.map(\.id).contains($0.id)
        }) {
            let message =
                "waiting for change \(blocker.id) (sequence \(blocker.sequenceNumber), \(blocker.status.rawValue)) of the same document"
            return .decided(
                write: nil,
                decisions: changes.map {
                    ChangeDecision(
                        change: $0, outcome: .deferred, message: message, transition: nil, note: nil, needsWrite: false)
                })
        }
        var decisions: [ChangeDecision] = []
        // Never go back in time: anything older than what the log applied or search shows is superseded.
        var appliedFloor = facts.audit.latestApplied
        var liveFloor = facts.liveSequence
        #if DEBUG
            if EngineMutation.on(.ignoreFloors) { (appliedFloor, liveFloor) = (nil, nil) }
        #endif
        var open: [ChangeRecord] = []
        for change in changes {
            if let appliedFloor, change.sequenceNumber < appliedFloor {
                decisions.append(
                    settle(change, .superseded, "audit log already applied newer sequence \(appliedFloor)", context))
            } else if let liveFloor, change.sequenceNumber < liveFloor {
                decisions.append(settle(change, .superseded, "search already holds newer sequence \(liveFloor)", context))
            } else if change.documentID == nil || change.eventName == nil {
                decisions.append(failure(change, "change has no artist document to apply to", context))
            } else {
                open.append(change)
            }
        }
        #if DEBUG
            if EngineMutation.on(.coalesceOldest), open.count > 1 { open.reverse() }
            if EngineMutation.on(.supersedeNewest), open.count > 1 {
                decisions += open.map { settle($0, .superseded, "superseded by nothing (mutation)", context) }
                open = []
            }
        #endif
        guard let newest = open.last, let eventName = newest.eventName, let documentID = newest.documentID else {
            return .decided(write: nil, decisions: decisions)
        }
        let coalesced = open.dropLast()
        func finish(write: PlannedWrite?, _ newestDecision: ChangeDecision) -> DocumentPlan {
            for change in coalesced {
                var decision = settle(
                    change, .superseded,
                    "coalesced: change \(newest.id) (sequence \(newest.sequenceNumber)) was written in its place", context)
                decision.needsWrite = write != nil
                decisions.append(decision)
            }
            decisions.append(newestDecision)
            return .decided(write: write, decisions: decisions)
        }
        // Idempotent: search already reflects the newest change (or a table copy stamped with it).
        var idempotent = true
        #if DEBUG
            idempotent = !EngineMutation.on(.ignoreIdempotence)
        #endif
        if idempotent, facts.liveSequence == newest.sequenceNumber,
            facts.liveEventName == eventName.rawValue || facts.liveIsTableCopy
        {
            return finish(write: nil, settle(newest, .applied, "already in search; nothing written", context))
        }
        let condition = facts.live.map(\.unchangedCondition)
        let stamp = SyncStamp(
            sequenceNumber: newest.sequenceNumber, eventName: eventName,
            approximateCreationTime: newest.approximateCreationTime, appliedAt: context.now)
        switch eventName {
        case .remove:
            guard facts.live != nil else {
                return finish(
                    write: nil, settle(newest, .applied, "document already absent; nothing written", context))
            }
            if facts.liveIsTableCopy {
                // The live copy came from the table, which may be newer than this REMOVE.
                switch facts.table {
                case .unread: return .needsTable
                case .present(let item):
                    let write = tableCopy(item, documentID: documentID, stamp: stamp, condition: condition)
                    return finish(
                        write: write,
                        settle(
                            newest, .applied, "the item was re-created after this REMOVE; wrote the table's current item",
                            context, needsWrite: true))
                case .absent:
                    break
                }
            }
            let write = PlannedWrite(
                operation: .delete(id: documentID, condition: condition), written: .null, stampSequence: nil,
                stampAppliedAt: nil)
            return finish(write: write, settle(newest, .applied, "deleted", context, needsWrite: true))
        case .insert, .modify:
            guard let newImage = newest.newImage else {
                return finish(write: nil, failure(newest, "\(eventName.rawValue) change has no new image", context))
            }
            if facts.live != nil && !facts.liveIsTableCopy {
                let document = transform.document(for: newImage, stamp: stamp)
                let write = PlannedWrite(
                    operation: .index(id: documentID, document: document, condition: condition), written: document,
                    stampSequence: stamp.sequenceNumber, stampAppliedAt: ISO8601Milliseconds.format(stamp.appliedAt))
                return finish(write: write, settle(newest, .applied, "indexed", context, needsWrite: true))
            }
            // An absent document proves nothing (OpenSearch forgets deletes after index.gc_deletes),
            // and a table copy may be newer than this change: ask the table.
            switch facts.table {
            case .unread:
                return .needsTable
            case .absent:
                guard facts.live != nil else {
                    return finish(
                        write: nil,
                        settle(newest, .superseded, "item no longer in the table: a later REMOVE won", context))
                }
                let write = PlannedWrite(
                    operation: .delete(id: documentID, condition: condition), written: .null, stampSequence: nil,
                    stampAppliedAt: nil)
                return finish(
                    write: write,
                    settle(
                        newest, .superseded, "item no longer in the table: a later REMOVE won; document deleted", context,
                        needsWrite: true))
            case .present(let item) where item == newImage:
                let document = transform.document(for: newImage, stamp: stamp)
                let write = PlannedWrite(
                    operation: .index(id: documentID, document: document, condition: condition ?? .createOnly),
                    written: document, stampSequence: stamp.sequenceNumber,
                    stampAppliedAt: ISO8601Milliseconds.format(stamp.appliedAt))
                return finish(
                    write: write,
                    settle(newest, .applied, facts.live == nil ? "indexed (created)" : "indexed", context, needsWrite: true))
            case .present(let item):
                // The table is newer than the change. Write the table's item, marked as a table copy, so
                // that a later-arriving change between the two is checked against the table again instead
                // of overwriting newer content with its older image.
                let write = tableCopy(item, documentID: documentID, stamp: stamp, condition: condition ?? .createOnly)
                return finish(
                    write: write,
                    settle(
                        newest, .applied, "indexed the table's current item, which is newer than the change", context,
                        needsWrite: true))
            }
        }
    }

    // MARK: Rollback

    /// Rollback of one applied change: restore its old image (delete the document for an insert),
    /// only while search and the log still reflect it; otherwise a conflict naming both sequences,
    /// unless `force`.
    ///
    /// A MODIFY or REMOVE that carried no old image (a stream without old images, or a forwarded
    /// record without one) has nothing to restore: it is refused, and with `force` the table's
    /// current item is written instead (a resync), never a delete.
    public func rollback(_ change: ChangeRecord, facts: DocumentFacts, force: Bool, context: Context) -> DocumentPlan {
        guard Self.rollbackStatuses.contains(change.status) else {
            return refused(change, "only applied changes can be rolled back (this one is \(change.status.rawValue))")
        }
        guard let documentID = change.documentID, let eventName = change.eventName else {
            return refused(change, "change has no artist document")
        }
        if eventName != .insert && change.oldImage == nil {
            return rollbackWithoutOldImage(change, documentID: documentID, facts: facts, force: force, context: context)
        }
        var conflict: String?
        if let latest = facts.audit.latestApplied, latest > change.sequenceNumber {
            conflict =
                "a later change (sequence \(latest)) was applied after this one (sequence \(change.sequenceNumber))"
        } else {
            let reflects: Bool
            switch eventName {
            case .remove: reflects = facts.live == nil
            case .insert, .modify:
                reflects = facts.liveSequence == change.sequenceNumber && facts.liveEventName == eventName.rawValue
            }
            if !reflects {
                let liveText =
                    facts.live == nil
                    ? "the document is absent"
                    : "the live document carries sequence \(facts.liveSequence?.description ?? "none")"
                        + (facts.liveEventName.map { " (\($0))" } ?? "")
                conflict = "\(liveText), not this change's sequence \(change.sequenceNumber)"
            }
        }
        if let conflict, !force {
            let message = "conflict: \(conflict); a forced rollback writes it anyway"
            return .decided(
                write: nil,
                decisions: [
                    ChangeDecision(
                        change: change, outcome: .conflict, message: message, transition: nil,
                        note: ActionEntry(
                            action: .conflict, actor: context.actor, reason: context.reason, outcome: message),
                        needsWrite: false)
                ])
        }
        let condition = facts.live.map(\.unchangedCondition)
        var write: PlannedWrite?
        var outcome: String
        if eventName == .insert {
            outcome = "document deleted (the change was an insert)"
            if facts.live != nil {
                write = PlannedWrite(
                    operation: .delete(id: documentID, condition: condition), written: .null, stampSequence: nil,
                    stampAppliedAt: nil)
            }
        } else {
            outcome = "old image restored"
            let stamp = SyncStamp(
                sequenceNumber: change.sequenceNumber, eventName: eventName,
                approximateCreationTime: change.approximateCreationTime, appliedAt: context.now)
            // A rolled-back document keeps the change's sequence (older changes stay superseded) but is
            // marked ROLLBACK, so a later retry of the same change writes again.
            let document = Self.marked(transform.document(for: change.oldImage ?? [:], stamp: stamp), as: Self.rollbackMark)
            write = PlannedWrite(
                operation: .index(id: documentID, document: document, condition: condition ?? .createOnly),
                written: document, stampSequence: change.sequenceNumber,
                stampAppliedAt: ISO8601Milliseconds.format(context.now))
        }
        if conflict != nil { outcome += " (forced)" }
        let decision = ChangeDecision(
            change: change, outcome: .rolledBack, message: outcome,
            transition: TransitionRequest(
                change.id, to: .rolledBack, expecting: [.applied],
                action: ActionEntry(
                    action: .rolledBack, actor: context.actor, reason: context.reason, outcome: outcome,
                    response: write == nil ? Self.response(written: .null) : nil)),
            note: nil, needsWrite: write != nil)
        return .decided(write: write, decisions: [decision])
    }

    /// Rollback of a MODIFY or REMOVE that carried no old image: refused, as nothing says what
    /// the document was before; with `force`, the document is made to match the table's current
    /// item (as a resync writes it), and refused when the table has no item either.
    func rollbackWithoutOldImage(
        _ change: ChangeRecord, documentID: String, facts: DocumentFacts, force: Bool, context: Context
    ) -> DocumentPlan {
        let eventName = change.eventName?.rawValue ?? "change"
        guard force else {
            return refused(
                change,
                "the \(eventName) carried no old image, so there is nothing to restore; rollback --force writes the table's current item instead (a resync)"
            )
        }
        let item: Item
        switch facts.table {
        case .unread:
            return .needsTable
        case .absent:
            return refused(
                change,
                "the \(eventName) carried no old image and the table has no item either: nothing to restore, nothing written")
        case .present(let current):
            item = current
        }
        var sequence = change.sequenceNumber
        for known in [facts.liveSequence, facts.audit.latestApplied].compactMap({ $0 }) where known > sequence {
            sequence = known
        }
        let stamp = SyncStamp(sequenceNumber: sequence, eventName: .modify, approximateCreationTime: nil, appliedAt: context.now)
        let write = tableCopy(
            item, documentID: documentID, stamp: stamp, condition: facts.live.map(\.unchangedCondition) ?? .createOnly)
        let outcome = "the \(eventName) carried no old image: wrote the table's current item instead (forced)"
        let decision = ChangeDecision(
            change: change, outcome: .rolledBack, message: outcome,
            transition: TransitionRequest(
                change.id, to: .rolledBack, expecting: [.applied],
                action: ActionEntry(action: .rolledBack, actor: context.actor, reason: context.reason, outcome: outcome)),
            note: nil, needsWrite: true)
        return .decided(write: write, decisions: [decision])
    }

    // MARK: Resync

    /// Resync: make the document match the table's current item (delete it when the item is gone),
    /// stamped with the newest sequence known so the stamp never moves back.
    public func resync(_ change: ChangeRecord, facts: DocumentFacts, context: Context) -> DocumentPlan {
        guard Self.resyncStatuses.contains(change.status) else {
            if change.status == .expired {
                return refused(
                    change, "its batch left the stream before its records were read; resolve it with resolve-expired")
            }
            return refused(change, "a \(change.status.rawValue) change cannot be resynced")
        }
        guard let documentID = change.documentID, change.keys != nil else {
            return refused(change, "change has no artist document")
        }
        let condition = facts.live.map(\.unchangedCondition)
        var sequence = change.sequenceNumber
        for known in [facts.liveSequence, facts.audit.latestApplied].compactMap({ $0 }) where known > sequence {
            sequence = known
        }
        let write: PlannedWrite?
        let outcome: String
        switch facts.table {
        case .unread:
            return .needsTable
        case .present(let item):
            let stamp = SyncStamp(
                sequenceNumber: sequence, eventName: .modify, approximateCreationTime: nil, appliedAt: context.now)
            write = tableCopy(item, documentID: documentID, stamp: stamp, condition: condition ?? .createOnly)
            outcome = "document matches the table's current item"
        case .absent:
            write =
                facts.live == nil
                ? nil
                : PlannedWrite(
                    operation: .delete(id: documentID, condition: condition), written: .null, stampSequence: nil,
                    stampAppliedAt: nil)
            outcome =
                facts.live == nil
                ? "item gone from the table and search has no document; nothing written"
                : "item gone from the table; document deleted"
        }
        let decision = ChangeDecision(
            change: change, outcome: .resynced, message: outcome,
            transition: TransitionRequest(
                change.id, to: .applied, expecting: [change.status],
                update: ChangeUpdate(nextAttemptAt: .some(nil), lastError: .some(nil)),
                action: ActionEntry(
                    action: .resynced, actor: context.actor, reason: context.reason, outcome: outcome,
                    response: write == nil ? Self.response(written: .null) : nil)),
            note: nil, needsWrite: write != nil)
        return .decided(write: write, decisions: [decision])
    }

    // MARK: Settling

    /// The decision that settles a change as applied or superseded (by replay).
    func settle(
        _ change: ChangeRecord, _ outcome: ChangeOutcome, _ message: String, _ context: Context, needsWrite: Bool = false
    ) -> ChangeDecision {
        let status: ChangeStatus = outcome == .superseded ? .superseded : .applied
        return ChangeDecision(
            change: change, outcome: outcome, message: message,
            transition: TransitionRequest(
                change.id, to: status, expecting: [change.status],
                update: ChangeUpdate(nextAttemptAt: .some(nil), lastError: .some(nil)),
                action: ActionEntry(
                    action: status == .superseded ? .superseded : .applied, actor: context.actor, reason: context.reason,
                    outcome: message)),
            note: nil, needsWrite: needsWrite)
    }

    /// The decision that records a failed try of a change for its own reason: backoff, or parked
    /// after `maxAttempts`.
    public func failure(_ change: ChangeRecord, _ message: String, _ context: Context) -> ChangeDecision {
        let attempts = change.attempts + 1
        let parked = attempts >= maxAttempts
        let delay = backoff.delay(afterAttempt: attempts - 1)
        let seconds = delay / .seconds(1)
        return ChangeDecision(
            change: change, outcome: parked ? .parked : .failed, message: message,
            transition: TransitionRequest(
                change.id, to: parked ? .parked : .failed, expecting: [change.status],
                update: ChangeUpdate(
                    attempts: attempts, nextAttemptAt: .some(parked ? nil : context.now.addingTimeInterval(seconds)),
                    lastError: .some(message)),
                action: ActionEntry(
                    action: parked ? .parked : .failed, actor: context.actor, reason: context.reason,
                    outcome: parked ? "parked after \(attempts) attempts: \(message)" : message)),
            note: nil, needsWrite: false)
    }

    func refused(_ change: ChangeRecord, _ message: String) -> DocumentPlan {
        .decided(
            write: nil,
            decisions: [
                ChangeDecision(
                    change: change, outcome: .refused, message: message, transition: nil, note: nil, needsWrite: false)
            ])
    }

    /// The table's item as a document, stamped and marked as a table copy.
    func tableCopy(_ item: Item, documentID: String, stamp: SyncStamp, condition: WriteCondition?) -> PlannedWrite {
        let document = Self.marked(transform.document(for: item, stamp: stamp), as: Self.resyncMark)
        return PlannedWrite(
            operation: .index(id: documentID, document: document, condition: condition), written: document,
            stampSequence: stamp.sequenceNumber, stampAppliedAt: ISO8601Milliseconds.format(stamp.appliedAt))
    }

    /// `document` with `sync.eventName` replaced by `mark`.
    static func marked(_ document: JSONValue, as mark: String) -> JSONValue {
        guard case .object(var fields) = document, case .object(var sync)? = fields["sync"] else { return document }
        sync["eventName"] = .string(mark)
        fields["sync"] = .object(sync)
        return .object(fields)
    }

    /// The response recorded with a write's action: what was written and what search answered.
    /// - Parameters:
    ///   - recovered: Whether the write was found in search (after a 409) rather than answered:
    ///     the response then says `"recovered": true`, with `document`'s `_seq_no` (none for a
    ///     delete, whose document is gone).
    static func response(
        written: JSONValue, item: BulkItemResult? = nil, recovered: Bool = false, document: OpenSearchDocument? = nil
    ) -> String {
        var members: [String: JSONValue] = ["written": written]
        if let item {
            members["status"] = .number(String(item.status))
            members["result"] = item.result.map(JSONValue.string) ?? .null
            members["seqNo"] = item.seqNo.map { .number(String($0)) } ?? .null
        }
        if recovered {
            members["recovered"] = .bool(true)
            members["seqNo"] = document.map { .number(String($0.seqNo)) } ?? .null
        }
        return JSONValue.object(members).serialized
    }
}
