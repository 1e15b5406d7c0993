import Foundation
import SQLite

extension AuditLog {
    /// The messages that carry `correlationID`, oldest first, at most `limit`.
    /// - Throws: ``AuditLogError``.
    public func messages(correlationID: String, limit: Int) throws(AuditLogError) -> [StoredMessage] {
        try read { db in
            try db.query(
                """
                SELECT \(Rows.messageColumns) FROM messages INDEXED BY messages_correlation
                WHERE correlation_id IS NOT NULL AND correlation_id = ? ORDER BY received_at, message_id LIMIT ?
                """, [correlationID, max(1, limit)]
            ) { row in try Rows.message(from: row) }
        }
    }

    /// The ids of the changes a message carried (stored from it, or already stored when it
    /// brought them again), by id, at most `limit`: found through the actions the message
    /// recorded for them (`changes` has no index by message, to keep inserts cheap).
    /// - Throws: ``AuditLogError``.
    public func changeIDs(messageID: String, limit: Int) throws(AuditLogError) -> [Int64] {
        try read { db in
            try db.query(
                """
                SELECT DISTINCT change_id FROM actions INDEXED BY actions_message
                WHERE message_id = ? AND change_id IS NOT NULL ORDER BY change_id LIMIT ?
                """, [messageID, max(1, limit)]
            ) { $0.column(0) as Int64 }
        }
    }

    /// Actions of `kinds` per hour over the `hours` hours before `end`: for each kind, `hours`
    /// counts, the oldest hour first (an action at `end - hours h` falls in the first).
    /// - Throws: ``AuditLogError``.
    public func hourlyActionCounts(_ kinds: Set<ActionKind>, hours: Int, end: Date) throws(AuditLogError)
        -> [ActionKind: [Int]]
    {
        let hours = max(1, hours)
        let hour: Int64 = 3_600_000
        let start = end.databaseMilliseconds - Int64(hours) * hour
        var counts = Dictionary(uniqueKeysWithValues: kinds.map { ($0, Array(repeating: 0, count: hours)) })
        guard !kinds.isEmpty else { return counts }
        try read { db in
            try db.forEachRow(
                """
                SELECT action, (at - ?1) / ?2, count(*) FROM actions INDEXED BY actions_at
                WHERE at >= ?1 AND at < ?3 AND action IN (SELECT value FROM json_each(?4))
                GROUP BY 1, 2
                """, [start, hour, end.databaseMilliseconds, Self.jsonArray(kinds.map(\.rawValue).sorted())]
            ) { row in
                guard let kind = ActionKind(rawValue: row.column(0)) else { return }
                let bucket = Int(row.column(1) as Int64)
                if (0..<hours).contains(bucket) { counts[kind]?[bucket] += row.column(2) as Int }
            }
        }
        return counts
    }
}
