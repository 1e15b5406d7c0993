import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// Checks every message and change against its actions (see ``RowFingerprint``): the
    /// write-once columns must hash to what the first action recorded, and a change's
    /// status must be the one its last state-changing action left; a batch's range must be the
    /// one its message named. Pages through the tables, so memory stays flat.
    static func verifyRows(in db: AuditDatabase) throws -> (checked: Int, broken: (row: String, reason: String)?) {
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
    private static func verifyBatches(in db: AuditDatabase, checked: Int) throws
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
    /// columns (see ``ActionChain``) — with this instance's key from the chain's key anchor
    /// on — and runs `PRAGMA integrity_check`. Reads in pages from one snapshot, so memory
    /// stays flat.
    /// - Parameter expectedHead: A head recorded earlier (e.g. from `serve`'s log); the report
    ///   is broken unless the chain still holds it: that action, with that hash.
    /// - Returns: How many actions were checked, the first broken link (with the reason, naming
    ///   the action), the chain's head, where it is keyed, and the integrity check's lines.
    /// - Throws: ``AuditLogError``: `.keyRequired` when the chain is keyed and this instance
    ///   holds no key, `.invalidKey` when it holds another, or when the database cannot be read.
    public func verify(expectedHead: ChainHead? = nil) throws(AuditLogError) -> VerifyReport {
        let key = database.chainKey
        return try read { db in
            let anchors = try ChainAnchor.all(in: db)
            if let first = anchors.first {
                guard let key else { throw ChainAnchor.keyRequired(first) }
                if let other = anchors.first(where: { $0.keyID != key.keyID }) { throw ChainAnchor.wrongKey(other, key) }
            }
            var broken = anchors.first { key.map($0.isSigned(by:)) == false }.map {
                (
                    $0.firstActionID,
                    "action \($0.firstActionID): its key anchor was not written with this key: the anchor was forged or edited"
                )
            }
            let keyedFrom = anchors.first?.firstActionID
            var checked = 0
            var previousID: Int64 = 0
            var previousHash = ActionChain.genesis
            var headHash = ActionChain.hex(ActionChain.genesis)
            var expectedHeadHash: String?
            pages: while broken == nil {
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
                    if let anchor = anchors.first(where: { $0.firstActionID == id }),
                        anchor.previousHash != (id == 1 ? nil : headHash)
                    {
                        broken = (id, "action \(id): the action before it is not the one the key was anchored after")
                        break pages
                    }
                    let rowKey = keyedFrom.map { id >= $0 } == true ? key : nil
                    let expected = ActionChain.hash(previous: previousHash, columns: row.columns, key: rowKey)
                    guard expected == row.hash, let hashBytes = ActionChain.bytes(ofHex: row.hash) else {
                        let what = rowKey == nil ? "hash" : "keyed hash (HMAC)"
                        broken = (
                            id,
                            "action \(id): stored \(what) \(row.hash.prefix(12))… does not match its contents (expected \(expected.prefix(12))…): the row or its hash was changed"
                        )
                        break pages
                    }
                    previousID = id
                    previousHash = hashBytes
                    headHash = row.hash
                    if id == expectedHead?.count { expectedHeadHash = row.hash }
                }
            }
            if broken == nil {
                let highest =
                    try db.highestActionID()
                let anchoredAfter = (anchors.last?.firstActionID ?? 1) - 1
                if let anchor = anchors.first(where: { $0.firstActionID == previousID + 1 }),
                    anchor.previousHash != (previousID == 0 ? nil : headHash)
                {
                    broken = (
                        previousID,
                        "action \(previousID): its hash is not the one the key was anchored after: the chain before the anchor was rewritten"
                    )
                } else if max(highest, anchoredAfter) > previousID {
                    broken = (
                        previousID + 1,
                        "action \(previousID + 1): actions \(previousID + 1)–\(max(highest, anchoredAfter)) were removed from the end of the chain"
                    )
                }
            }
            let head = ChainHead(count: previousID, hash: headHash)
            let headReason: String? = expectedHead.flatMap { expected in
                if expected.count == 0 { return nil }
                guard let found = expectedHeadHash else {
                    return
                        "the expected head \(expected) is missing: the chain \(broken == nil ? "ends at" : "is intact only up to") action \(previousID)\(broken == nil ? "; actions were removed from its end" : "")"
                }
                return found == expected.hash
                    ? nil
                    : "the expected head \(expected) is missing: action \(expected.count) now has hash \(found.prefix(12))…; the history before it was rewritten"
            }
            let rows = try Self.verifyRows(in: db)
            let integrity = try db.integrityCheck()
            return VerifyReport(
                actionsChecked: checked, firstBrokenActionID: broken?.0, brokenReason: broken?.1,
                rowsChecked: rows.checked, firstBrokenRow: rows.broken?.row, brokenRowReason: rows.broken?.reason,
                integrityCheck: integrity, head: head, keyedFrom: keyedFrom, headReason: headReason)
        }
    }

    /// The chain's head now: its last action's id and hash (count 0 and 64 zeros when empty).
    /// Cheap: one indexed read. `serve` logs it at each interval, so that a copy of the
    /// head lives outside the database (see ``verify(expectedHead:)``).
    /// - Throws: ``AuditLogError`` when the database cannot be read.
    public func head() throws(AuditLogError) -> ChainHead {
        try read { db in
            try db.queryOne("SELECT id, hash FROM actions ORDER BY id DESC LIMIT 1") {
                ChainHead(count: $0.column(0), hash: $0.column(1))
            } ?? ChainHead(count: 0, hash: ActionChain.hex(ActionChain.genesis))
        }
    }
}
