import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// Checks every message and change against its actions (see ``RowFingerprint``): the
    /// write-once columns must hash to what the first action recorded, and a change's
    /// status must be the one its last state-changing action left; a batch's range must be the
    /// one its message named. Pages through the tables, so memory stays flat.
    static func verifyRows(in db: Connection) throws -> (checked: Int, broken: (row: String, reason: String)?) {
        var checked = 0
        var lastRowID: Int64 = 0
        while true {
            var page: [(rowid: Int64, id: String)] = []
            try db.forEachRow("SELECT rowid, message_id FROM messages WHERE rowid > ? ORDER BY rowid LIMIT 1000", [lastRowID]) {
                page.append(($0.column(0), $0.column(1)))
            }
            guard let last = page.last else { break }
            lastRowID = last.rowid
            for message in page {
                checked += 1
                let response = try db.queryOne(
                    "SELECT response FROM actions INDEXED BY actions_message WHERE message_id = ? ORDER BY id LIMIT 1",
                    [message.id]
                ) { $0.column(0) as String? }
                let recorded = RowFingerprint.recorded(RowFingerprint.messageKey, in: response ?? nil)
                guard let recorded else {
                    return (checked, ("message \(message.id)", "message \(message.id): no action records it as ingested"))
                }
                guard try RowFingerprint.message(message.id, in: db) == recorded else {
                    return (
                        checked,
                        ("message \(message.id)", "message \(message.id): its body or fields differ from what was ingested")
                    )
                }
            }
        }
        let stateKinds = RowFingerprint.statusAfter.keys.map(\.rawValue).sorted()
        let kindList = stateKinds.map { "'\($0)'" }.joined(separator: ", ")
        var lastChangeID: Int64 = 0
        while true {
            var page: [(id: Int64, status: String)] = []
            try db.forEachRow("SELECT id, status FROM changes WHERE id > ? ORDER BY id LIMIT 1000", [lastChangeID]) {
                page.append(($0.column(0), $0.column(1)))
            }
            guard let last = page.last else { break }
            lastChangeID = last.id
            for change in page {
                checked += 1
                let row = "change \(change.id)"
                let first = try db.queryOne(
                    "SELECT response FROM actions INDEXED BY actions_change WHERE change_id = ? ORDER BY id LIMIT 1", [change.id]
                ) { $0.column(0) as String? }
                guard let recorded = RowFingerprint.recorded(RowFingerprint.changeKey, in: first ?? nil) else {
                    return (checked, (row, "\(row): no action records it as ingested"))
                }
                guard try RowFingerprint.change(change.id, in: db) == recorded else {
                    return (checked, (row, "\(row): its keys, images or identity differ from what was ingested"))
                }
                let lastKind = try db.queryOne(
                    """
                    SELECT action FROM actions INDEXED BY actions_change
                    WHERE change_id = ? AND action IN (\(kindList)) ORDER BY id DESC LIMIT 1
                    """, [change.id]
                ) { $0.column(0) as String }
                let expected = lastKind.flatMap(ActionKind.init(rawValue:)).flatMap { RowFingerprint.statusAfter[$0] }
                guard expected?.rawValue == change.status else {
                    return (
                        checked,
                        (
                            row,
                            "\(row): status is \(change.status) but its last action (\(lastKind ?? "none")) leaves it \(expected?.rawValue ?? "unknown")"
                        )
                    )
                }
            }
        }
        return try verifyBatches(in: db, checked: checked)
    }

    /// Checks every batch's identity against the body of the message that named it (the body
    /// is checked against its fingerprint above): a range edited after ingest is caught.
    private static func verifyBatches(in db: Connection, checked: Int) throws
        -> (checked: Int, broken: (row: String, reason: String)?)
    {
        var checked = checked
        var lastID: Int64 = 0
        while true {
            var page: [(id: Int64, arn: String, shard: String, start: String, end: String, body: String?)] = []
            try db.forEachRow(
                """
                SELECT batches.id, stream_arn, shard_id, start_sequence, end_sequence,
                       (SELECT body FROM messages WHERE messages.message_id = batches.message_id)
                FROM batches WHERE id > ? ORDER BY id LIMIT 1000
                """, [lastID]
            ) { page.append(($0.column(0), $0.column(1), $0.column(2), $0.column(3), $0.column(4), $0.column(5))) }
            guard let last = page.last else { break }
            lastID = last.id
            for batch in page {
                checked += 1
                let row = "batch \(batch.id)"
                guard let body = batch.body, case .failedBatch(let named) = DLQEnvelope(body: body),
                    named.streamARN == batch.arn, named.shardID == batch.shard,
                    named.startSequenceNumber.digits == batch.start, named.endSequenceNumber.digits == batch.end
                else {
                    return (checked, (row, "\(row): its stream, shard or range differs from what its message named"))
                }
            }
        }
        return (checked, nil)
    }

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
            let rows = try Self.verifyRows(in: db)
            let integrity = try db.query("PRAGMA integrity_check") { $0.column(0) as String }
            return VerifyReport(
                actionsChecked: checked, firstBrokenActionID: broken?.id, brokenReason: broken?.reason,
                rowsChecked: rows.checked, firstBrokenRow: rows.broken?.row, brokenRowReason: rows.broken?.reason,
                integrityCheck: integrity)
        }
    }
}
