import Foundation
import SQLite

extension AuditLog {
    /// One change by id (nil when there is none).
    /// - Throws: ``AuditLogError``.
    public func change(id: Int64) throws(AuditLogError) -> ChangeRecord? {
        try read { db in try Self.change(id: id, in: db) }
    }

    static func change(id: Int64, in db: AuditDatabase) throws -> ChangeRecord? {
        try db.queryOne("SELECT \(Rows.changeColumns) FROM \(Rows.changesWithImages("changes")) WHERE changes.id = ?", [id]) {
            row in try Rows.change(from: row)
        }
    }

    /// Moves a change to `to` and appends `action`, in one transaction; returns the updated row.
    ///
    /// The move must be allowed by the state machine (``ChangeStatus/allowedTransitions``).
    /// With `expecting`, the row's current status must also be one of those (an optimistic
    /// check for concurrent processes). Any refusal changes nothing.
    /// - Parameters:
    ///   - id: The change.
    ///   - to: Its new status.
    ///   - expecting: The statuses the caller believes the change is in.
    ///   - update: Attempts, due time and last error to set along the way.
    ///   - action: The action to record (for the change and its message).
    ///   - at: The time of the move (`updatedAt`, the action's time).
    /// - Throws: ``AuditLogError``: `.notFound`, `.illegalTransition`, `.storage`.
    @discardableResult
    public func transition(
        _ id: Int64, to: ChangeStatus, expecting: Set<ChangeStatus>? = nil, update: ChangeUpdate = .init(), action: ActionEntry,
        at: Date
    ) throws(AuditLogError) -> ChangeRecord {
        let request = TransitionRequest(id, to: to, expecting: expecting, update: update, action: action)
        let now = at.databaseMilliseconds
        return try write { db in try Self.move(request, now: now, in: db) }
    }

    /// Makes several moves in one transaction, so that a batch costs one commit (one disk
    /// sync) instead of one per change.
    ///
    /// Each move is checked as ``transition(_:to:expecting:update:action:at:)`` checks it. A
    /// refused move (`.notFound`, `.illegalTransition`) changes nothing and is reported in
    /// its place; the other moves are made.
    /// - Parameters:
    ///   - requests: The moves, made in this order.
    ///   - at: The time of the moves (`updatedAt`, the actions' time).
    ///   - fence: When given, the moves are made only if this fence still holds its lease
    ///     (checked inside the transaction).
    /// - Returns: Per request, in order: the updated row, or why the move was refused.
    /// - Throws: ``AuditLogError`` `.storage` when the database fails, `.leaseLost` when `fence`
    ///   no longer holds its lease; then no move is made.
    public func transitions(_ requests: [TransitionRequest], at: Date, fence: LeaseFence? = nil) throws(AuditLogError)
        -> [Result<ChangeRecord, AuditLogError>]
    {
        let now = at.databaseMilliseconds
        return try write { db in
            try Self.check(fence, in: db)
            return try requests.map { request in
                do {
                    return .success(try Self.move(request, now: now, in: db))
                } catch {
                    guard let refusal = error as? AuditLogError, [.notFound, .illegalTransition].contains(refusal.code)
                    else { throw error }
                    return .failure(refusal)
                }
            }
        }
    }

    /// One move, inside the caller's write transaction. Every check comes before the first
    /// write, so a refused move leaves the transaction as it found it.
    static func move(_ request: TransitionRequest, now: Int64, in db: AuditDatabase) throws -> ChangeRecord {
        var moves = try ChangeMoves.read([request.id], in: db)
        var actions: [PendingAction] = []
        try moves.move(request, actions: &actions)
        try moves.write(at: now, in: db)
        try appendActions(actions, at: now, in: db)
        guard let updated = try change(id: request.id, in: db) else {
            throw AuditLogError(code: .notFound, description: "change \(request.id) does not exist")
        }
        return updated
    }

    /// Appends an action without changing any state (e.g. a refused rollback: `.conflict`).
    /// - Parameters:
    ///   - changeID: The change it concerns, if any (must exist).
    ///   - messageID: The message it concerns, if any (must exist).
    ///   - entry: What to record.
    ///   - at: When.
    /// - Returns: The stored action, with its hash.
    /// - Throws: ``AuditLogError``: `.notFound` for an unknown change or message, `.storage`.
    @discardableResult
    public func appendAction(changeID: Int64?, messageID: String?, _ entry: ActionEntry, at: Date) throws(AuditLogError)
        -> ActionRecord
    {
        try write { db in
            if let changeID, try db.queryOne("SELECT 1 FROM changes WHERE id = ?", [changeID], row: { _ in true }) == nil {
                throw AuditLogError(code: .notFound, description: "change \(changeID) does not exist")
            }
            if let messageID,
                try db.queryOne("SELECT 1 FROM messages WHERE message_id = ?", [messageID], row: { _ in true }) == nil
            {
                throw AuditLogError(code: .notFound, description: "message \(messageID) does not exist")
            }
            return try Self.appendAction(changeID: changeID, messageID: messageID, entry, at: at.databaseMilliseconds, in: db)
        }
    }
}
