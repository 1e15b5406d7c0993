import Foundation
import SQLite

extension AuditLog {
    /// One change by id (nil when there is none).
    /// - Throws: ``AuditLogError``.
    public func change(id: Int64) throws(AuditLogError) -> ChangeRecord? {
        try read { db in try Self.change(id: id, in: db) }
    }

    static func change(id: Int64, in db: Connection) throws -> ChangeRecord? {
        try db.queryOne("SELECT \(Rows.changeColumns) FROM changes WHERE id = ?", [id]) { row in try Rows.change(from: row) }
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
        let now = at.databaseMilliseconds
        return try write { db in
            guard let current = try Self.change(id: id, in: db) else {
                throw AuditLogError(code: .notFound, description: "change \(id) does not exist")
            }
            if let expecting, !expecting.contains(current.status) {
                let expected = expecting.map(\.rawValue).sorted().joined(separator: ", ")
                throw AuditLogError(
                    code: .illegalTransition,
                    description:
                        "change \(id) is \(current.status.rawValue), expected \(expected): another process moved it; nothing changed"
                )
            }
            guard current.status.canTransition(to: to) else {
                throw AuditLogError(
                    code: .illegalTransition,
                    description: "change \(id) cannot go from \(current.status.rawValue) to \(to.rawValue); nothing changed")
            }
            let attempts = update.attempts ?? current.attempts
            let nextAttemptAt = update.nextAttemptAt ?? current.nextAttemptAt
            let lastError = update.lastError ?? current.lastError
            try db.run(
                "UPDATE changes SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                [to.rawValue, attempts, nextAttemptAt?.databaseMilliseconds, lastError, now, id])
            try Self.appendAction(changeID: id, messageID: current.messageID, action, at: now, in: db)
            guard let updated = try Self.change(id: id, in: db) else {
                throw AuditLogError(code: .notFound, description: "change \(id) does not exist")
            }
            return updated
        }
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
