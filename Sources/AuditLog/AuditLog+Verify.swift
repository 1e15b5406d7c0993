import Foundation
import SQLite

extension AuditLog {
    /// Walks the action chain from the first action, recomputing every hash from the stored
    /// columns (see ``ActionChain``), and runs `PRAGMA integrity_check`. Reads in pages from
    /// one snapshot, so memory stays flat.
    /// - Returns: How many actions were checked, the first broken link (with the reason, naming
    ///   the action) and the integrity check's lines.
    /// - Throws: ``AuditLogError`` when the database cannot be read at all.
    public func verify() throws(AuditLogError) -> VerifyReport {
        try read { db in
            var checked = 0
            var broken: (id: Int64, reason: String)?
            var previousID: Int64 = 0
            var previousHash = ActionChain.genesis
            pages: while true {
                var rows: [(columns: [SQLValue], hash: String)] = []
                try db.forEachRow(
                    "SELECT \(Rows.actionColumns) FROM actions NOT INDEXED WHERE id > ? ORDER BY id LIMIT 1000", [previousID]
                ) { row in
                    rows.append(((0..<9).map { row.value(at: $0) }, row.column(9)))
                }
                guard !rows.isEmpty else { break }
                for row in rows {
                    guard case .integer(let id) = row.columns[0] else { break pages }
                    checked += 1
                    if id != previousID + 1 {
                        let missing =
                            previousID + 1 == id - 1 ? "action \(previousID + 1) is" : "actions \(previousID + 1)–\(id - 1) are"
                        broken = (id, "action \(id): \(missing) missing from the chain")
                        break pages
                    }
                    let expected = ActionChain.hash(previous: previousHash, columns: row.columns)
                    guard expected == row.hash, let hashBytes = ActionChain.bytes(ofHex: row.hash) else {
                        broken = (
                            id,
                            "action \(id): stored hash \(row.hash.prefix(12))… does not match its contents (expected \(expected.prefix(12))…): the row or its hash was changed"
                        )
                        break pages
                    }
                    previousID = id
                    previousHash = hashBytes
                }
            }
            if broken == nil {
                let highest =
                    try db.queryOne("SELECT seq FROM sqlite_sequence WHERE name = 'actions'") { $0.column(0) as Int64 } ?? 0
                if highest > previousID {
                    broken = (
                        previousID + 1,
                        "action \(previousID + 1): actions \(previousID + 1)–\(highest) were removed from the end of the chain"
                    )
                }
            }
            let integrity = try db.query("PRAGMA integrity_check") { $0.column(0) as String }
            return VerifyReport(
                actionsChecked: checked, firstBrokenActionID: broken?.id, brokenReason: broken?.reason, integrityCheck: integrity)
        }
    }
}
