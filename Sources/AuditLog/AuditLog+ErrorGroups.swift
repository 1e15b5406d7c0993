import Foundation
import SQLite

// Failure groups: a change's error is stored with its fingerprint and group id
// (FailureFingerprint), written wherever last_error is, and grouped by the group id.

extension AuditLog {
    /// The fingerprint and group id stored beside an error text (both NULL without one).
    static func errorGroupColumns(_ lastError: String?) -> (fingerprint: SQLValue, group: SQLValue) {
        guard let lastError else { return (.null, .null) }
        let fingerprint = FailureFingerprint(error: lastError)
        return (.text(fingerprint.text), .text(fingerprint.groupID))
    }

    /// Changes with an error, grouped by fingerprint: count, distinct documents (changes without a
    /// document count none), first and last seen (creation times), statuses, and the newest
    /// change's full error text as the example; largest groups first, then by group id.
    /// - Parameters:
    ///   - statuses: Only changes in these statuses (empty: all).
    ///   - limit: At most this many groups (the largest).
    /// - Throws: ``AuditLogError``.
    public func errorGroups(statuses: Set<ChangeStatus>, limit: Int = .max) throws(AuditLogError) -> [ErrorGroup] {
        let statusList = statuses.count == ChangeStatus.allCases.count ? [] : statuses.map(\.rawValue).sorted()
        let statusCondition = statusList.isEmpty ? "" : "AND status IN (SELECT value FROM json_each(?))"
        let bindings: [any SQLBindable] = statusList.isEmpty ? [] : [Self.jsonArray(statusList)]
        return try read { db in
            var groups: [String: ErrorGroup] = [:]
            try db.forEachRow(
                """
                SELECT error_group, status, count(*), min(created_at), max(created_at)
                FROM changes INDEXED BY changes_error_groups
                WHERE error_group IS NOT NULL \(statusCondition) GROUP BY error_group, status ORDER BY error_group, status
                """, bindings
            ) { row in
                let id: String = row.column(0)
                guard let status = ChangeStatus(rawValue: row.column(1)) else {
                    throw AuditLogError.corruptRow("unknown status in error groups")
                }
                let count: Int = row.column(2)
                let first = Date(databaseMilliseconds: row.column(3))
                let last = Date(databaseMilliseconds: row.column(4))
                var group =
                    groups[id]
                    ?? ErrorGroup(
                        id: id, fingerprint: "", error: "", count: 0, documents: 0, firstSeen: first, lastSeen: last,
                        statuses: [:])
                group.count += count
                group.firstSeen = min(group.firstSeen, first)
                group.lastSeen = max(group.lastSeen, last)
                group.statuses[status] = count
                groups[id] = group
            }
            try db.forEachRow(
                """
                SELECT error_group, count(DISTINCT document_id) FROM changes INDEXED BY changes_error_documents
                WHERE error_group IS NOT NULL \(statusCondition) GROUP BY error_group ORDER BY error_group
                """, bindings
            ) { row in
                let id: String = row.column(0)
                groups[id]?.documents = row.column(1)
            }
            var largest = groups.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.id < $1.id }
            largest = Array(largest.prefix(max(0, limit)))
            for index in largest.indices {
                let example = try db.queryOne(
                    """
                    SELECT last_error, error_fingerprint FROM changes INDEXED BY changes_error_group_ids
                    WHERE error_group IS NOT NULL AND error_group = ? ORDER BY error_group DESC, id DESC LIMIT 1
                    """, [largest[index].id]
                ) { row in (row.column(0) as String?, row.column(1) as String?) }
                largest[index].error = example?.0 ?? ""
                largest[index].fingerprint = example?.1 ?? ""
            }
            return largest
        }
    }

    /// Stores the fingerprint and group id of every change that has an error but no group yet
    /// (changes stored before migration 0014), a page per transaction; nothing when none is left.
    /// - Returns: How many changes were filled.
    /// - Throws: ``AuditLogError``.
    @discardableResult
    public func fillErrorGroups(pageSize: Int = 1000) throws(AuditLogError) -> Int {
        try mappingErrors { try Self.fillErrorGroups(in: database, pageSize: pageSize) }
    }

    /// ``fillErrorGroups(pageSize:)`` on `database`, outside the actor (at open).
    @discardableResult
    static func fillErrorGroups(in database: AuditDatabase, pageSize: Int = 1000) throws -> Int {
        let select = """
            SELECT id, last_error FROM changes INDEXED BY changes_ungrouped
            WHERE last_error IS NOT NULL AND error_group IS NULL ORDER BY id LIMIT ?
            """
        // A read first: an open with nothing to fill takes no write lock.
        let pending = try database.transaction(.deferred) {
            try database.queryOne(select, [1]) { $0.column(0) as Int64 }
        }
        guard pending != nil else { return 0 }
        var filled = 0
        while true {
            let count = try database.transaction(.immediate) {
                let rows = try database.query(select, [max(1, pageSize)]) { row in
                    (row.column(0) as Int64, row.column(1) as String)
                }
                for (id, error) in rows {
                    let columns = errorGroupColumns(error)
                    try database.run(
                        "UPDATE changes SET error_fingerprint = ?, error_group = ? WHERE id = ?",
                        [columns.fingerprint, columns.group, id])
                }
                return rows.count
            }
            filled += count
            if count < pageSize { return filled }
        }
    }
}
