import Foundation
import SQLite

extension AuditLog {
    /// The condition that a message row (`messages`) is quarantined and still waiting: no action
    /// deleted or re-ingested it.
    static let waitingInQuarantine = """
        quarantine_reason IS NOT NULL AND NOT EXISTS (SELECT 1 FROM actions INDEXED BY actions_message
        WHERE actions.message_id = messages.message_id AND actions.action IN ('deleted', 'reingested'))
        """

    /// What an operator does with a quarantined message.
    public enum QuarantineResolution: Sendable, Hashable {
        /// Take it out of the quarantine; the message stays in the audit log.
        case delete
        /// Store what its body carries after all: `disposition` is the ingest path's new reading of it.
        case reingest(MessageDisposition)
    }

    /// Resolves a quarantined message that is still waiting, in one transaction: re-ingesting stores
    /// its changes (or its batch) as an ingest would, under its message id, then either way appends
    /// the message's `deleted` or `reingested` action with `actor` and `reason`.
    /// - Parameters:
    ///   - messageID: The quarantined message.
    ///   - resolution: Delete, or re-ingest with the body's new reading (which must not be quarantined).
    ///   - actor: Who resolves it.
    ///   - reason: Why (recorded on the action).
    ///   - at: When.
    /// - Returns: The action recorded, and for a re-ingest what was stored.
    /// - Throws: ``AuditLogError``: `.notFound` for an unknown message; `.illegalTransition` for one
    ///   that is not quarantined, was already resolved, or a re-ingest whose reading is still
    ///   quarantined; `.storage`.
    public func resolveQuarantined(
        messageID: String, _ resolution: QuarantineResolution, actor: String, reason: String?, at: Date
    ) throws(AuditLogError) -> (action: ActionRecord, stored: MessageIngestOutcome?) {
        let now = at.databaseMilliseconds
        return try write { db in
            let row = try db.queryOne(
                "SELECT quarantine_reason FROM messages WHERE message_id = ?", [messageID]
            ) { $0.column(0) as String? }
            guard let row else {
                throw AuditLogError(code: .notFound, description: "no message with id \(messageID)")
            }
            guard row != nil else {
                throw AuditLogError(
                    code: .illegalTransition, description: "message \(messageID) is not quarantined: it was read when it came")
            }
            if let earlier = try db.queryOne(
                """
                SELECT id, action FROM actions INDEXED BY actions_message
                WHERE message_id = ? AND action IN ('deleted', 'reingested') ORDER BY id LIMIT 1
                """, [messageID], row: { (id: $0.column(0) as Int64, action: $0.column(1) as String) })
            {
                throw AuditLogError(
                    code: .illegalTransition,
                    description: "message \(messageID) is no longer quarantined: action \(earlier.id) \(earlier.action) it")
            }
            var rows = IngestRows()
            var stored: MessageIngestOutcome?
            let outcome: String
            switch resolution {
            case .delete:
                outcome = "deleted from the quarantine (the message is kept in the audit log)"
            case .reingest(.quarantined(let reason)):
                throw AuditLogError(
                    code: .illegalTransition, description: "message \(messageID) still cannot be read: \(reason)")
            case .reingest(.changes(let changes)):
                let (ids, duplicates) = try Self.storeChanges(
                    changes, messageID: messageID, messageFingerprint: nil, now: now, into: &rows, in: db)
                stored = MessageIngestOutcome(
                    messageID: messageID, duplicateMessage: false, storedChangeIDs: ids, duplicateChanges: duplicates)
                outcome =
                    "re-ingested: \(ids.count) \(ids.count == 1 ? "change" : "changes") stored"
                    + (duplicates == 0 ? "" : ", \(duplicates) already stored")
            case .reingest(.batch(let batch)):
                let fingerprint = try RowFingerprint.message(messageID, in: db) ?? ""
                let result = try Self.store(
                    batch, messageID: messageID, messageFingerprint: fingerprint, now: now, into: &rows, in: db)
                stored = result
                outcome =
                    result.duplicateBatch
                    ? "re-ingested: its batch was already stored" + (result.batchID.map { " as batch \($0)" } ?? "")
                    : "re-ingested: batch \(result.batchID.map(String.init) ?? "?") stored"
            }
            let kind: ActionKind = if case .delete = resolution { .deleted } else { .reingested }
            rows.append(
                changeID: nil, messageID: messageID, ActionEntry(action: kind, actor: actor, reason: reason, outcome: outcome))
            try db.insertRows(
                into: "change_images", columns: ["change_id", "old_image_json", "new_image_json"], values: rows.images)
            let records = try Self.appendActions(rows.actions, at: now, in: db)
            return (records[records.count - 1], stored)
        }
    }
}

extension AuditLog {
    /// The action that took a quarantined message out of the quarantine (its `deleted` or
    /// `reingested`), nil while it waits (or for a message that was never quarantined).
    /// - Throws: ``AuditLogError``.
    public func quarantineResolution(messageID: String) throws(AuditLogError) -> ActionRecord? {
        try read { db in
            try db.queryOne(
                """
                SELECT \(Rows.actionColumns) FROM actions INDEXED BY actions_message
                WHERE message_id = ? AND action IN ('deleted', 'reingested') ORDER BY id LIMIT 1
                """, [messageID]
            ) { row in try Rows.action(from: row) }
        }
    }
}

extension AuditLog {
    /// How many quarantined messages still wait (none deleted or re-ingested them).
    /// - Throws: ``AuditLogError``.
    public func countWaitingInQuarantine() throws(AuditLogError) -> Int {
        try read { db in
            try db.queryOne("SELECT count(*) FROM messages INDEXED BY messages_quarantined WHERE \(Self.waitingInQuarantine)") {
                $0.column(0) as Int
            } ?? 0
        }
    }
}
