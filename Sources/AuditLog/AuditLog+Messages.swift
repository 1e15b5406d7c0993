import Foundation
import SQLite

extension AuditLog {
    /// Quarantined messages still waiting (bodies nobody could read, kept as received, that no
    /// operator deleted or re-ingested), oldest first, keyset-paged.
    /// - Parameters:
    ///   - after: The previous page's `next`, or `nil` for the first page.
    ///   - limit: Rows per page.
    /// - Throws: ``AuditLogError``: `.invalidCursor`, `.storage`.
    public func quarantinedMessages(after: String?, limit: Int) throws(AuditLogError) -> Page<StoredMessage> {
        let limit = max(1, limit)
        var start: (receivedAt: Int64, rowid: Int64) = (Int64.min, Int64.min)
        if let after {
            let parts = after.split(separator: ":")
            guard parts.count == 3, parts[0] == "q", let receivedAt = Int64(parts[1]), let rowid = Int64(parts[2]) else {
                throw AuditLogError(
                    code: .invalidCursor,
                    description: "cursor \(after.prefix(40)) is not a cursor of the quarantined messages listing")
            }
            start = (receivedAt, rowid)
        }
        let rows: [(StoredMessage, Int64, Int64)] = try read { db in
            try db.query(
                """
                SELECT \(Rows.messageColumns), received_at, rowid FROM messages INDEXED BY messages_quarantined
                WHERE \(Self.waitingInQuarantine) AND (received_at, rowid) > (?, ?)
                ORDER BY received_at, rowid LIMIT ?
                """, [start.receivedAt, start.rowid, limit + 1]
            ) { row in
                let columns = Rows.messageColumns.split(separator: ",").count
                return (try Rows.message(from: row), row.column(columns), row.column(columns + 1))
            }
        }
        let page = Self.page(rows, limit: limit) { last in "q:\(last.1):\(last.2)" }
        return Page(rows: page.rows.map(\.0), next: page.next)
    }
}
