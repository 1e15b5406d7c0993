import Foundation
import SQLite
import StreamModel

extension AuditLog {
    /// How many offenders each of verify's row checks names at most: the first ones, by id.
    static let offendersPerCheck = 5

    /// Checks that the tables are complete and agree with the chain, each check streaming (in
    /// pages, or one anti-join served by an index), so memory stays flat however long the log:
    /// - every message and change has its ingest action, whose fingerprint (see ``RowFingerprint``)
    ///   its write-once columns still hash to; a change's status is the one its last
    ///   state-changing action left;
    /// - every batch has the actions its message records for it (`batch N <status>`), its status is
    ///   the one the last of them left, and its range is the one its message named;
    /// - every action's change, message and batch exists, and so does every row a change, an image
    ///   or a batch refers to (on SQLite `PRAGMA foreign_key_check` too).
    /// - Returns: How many messages, changes and batches were checked, and the problems found
    ///   (at most ``offendersPerCheck`` per check), each naming its row.
    static func verifyRows(in db: AuditDatabase) throws -> (checked: Int, problems: [VerifyReport.RowProblem]) {
        var problems: [VerifyReport.RowProblem] = []
        let messages = try verifyMessages(in: db, into: &problems)
        let changes = try verifyChanges(in: db, into: &problems)
        let batches = try verifyBatches(in: db, into: &problems)
        try verifyReferences(in: db, into: &problems)
        return (messages + changes + batches, problems)
    }

    /// Walks a table in pages of 1,000 rows by an integer key, in key order, asking `problem`
    /// about each row, and records the problems it finds until ``offendersPerCheck`` of them.
    /// - Parameters:
    ///   - page: The rows after a key (0 at first), each with its key.
    ///   - problem: What is wrong with a row, as its name and the reason, or nil.
    /// - Returns: How many rows were checked.
    private static func checkEachRow<Row>(
        into problems: inout [VerifyReport.RowProblem], page: (_ after: Int64) throws -> [(key: Int64, row: Row)],
        problem: (Row) throws -> VerifyReport.RowProblem?
    ) throws -> Int {
        var checked = 0
        var found = 0
        var after: Int64 = 0
        while found < offendersPerCheck {
            let rows = try page(after)
            guard let last = rows.last else { break }
            after = last.key
            for (_, row) in rows {
                checked += 1
                guard let offender = try problem(row) else { continue }
                problems.append(offender)
                found += 1
                if found == offendersPerCheck { break }
            }
        }
        return checked
    }

    /// Every message against the fingerprint of its first action.
    private static func verifyMessages(in db: AuditDatabase, into problems: inout [VerifyReport.RowProblem]) throws -> Int {
        try checkEachRow(into: &problems) { after in
            var page: [(key: Int64, row: String)] = []
            try db.forEachRow("SELECT rowid, message_id FROM messages WHERE rowid > ? ORDER BY rowid LIMIT 1000", [after]) {
                page.append(($0.column(0), $0.column(1)))
            }
            return page
        } problem: { id in
            let row = "message \(id)"
            let response = try db.queryOne(
                "SELECT response FROM actions INDEXED BY actions_message WHERE message_id = ? ORDER BY id LIMIT 1", [id]
            ) { $0.column(0) as String? }
            guard let recorded = RowFingerprint.recorded(RowFingerprint.messageKey, in: response ?? nil) else {
                return VerifyReport.RowProblem(row: row, reason: "\(row): no action records it as ingested")
            }
            guard try RowFingerprint.message(id, in: db) == recorded else {
                return VerifyReport.RowProblem(row: row, reason: "\(row): its body or fields differ from what was ingested")
            }
            return nil
        }
    }

    /// Every change against the fingerprint of its first action, and its status against its last
    /// state-changing action.
    private static func verifyChanges(in db: AuditDatabase, into problems: inout [VerifyReport.RowProblem]) throws -> Int {
        let kindList = RowFingerprint.statusAfter.keys.map(\.rawValue).sorted().map { "'\($0)'" }.joined(separator: ", ")
        return try checkEachRow(into: &problems) { after in
            var page: [(key: Int64, row: (id: Int64, status: String))] = []
            try db.forEachRow("SELECT id, status FROM changes WHERE id > ? ORDER BY id LIMIT 1000", [after]) {
                let id: Int64 = $0.column(0)
                page.append((id, (id, $0.column(1))))
            }
            return page
        } problem: { change in
            let row = "change \(change.id)"
            let first = try db.queryOne(
                "SELECT response FROM actions INDEXED BY actions_change WHERE change_id = ? ORDER BY id LIMIT 1", [change.id]
            ) { $0.column(0) as String? }
            guard let recorded = RowFingerprint.recorded(RowFingerprint.changeKey, in: first ?? nil) else {
                return VerifyReport.RowProblem(row: row, reason: "\(row): no action records it as ingested")
            }
            guard try RowFingerprint.change(change.id, in: db) == recorded else {
                return VerifyReport.RowProblem(
                    row: row, reason: "\(row): its keys, images or identity differ from what was ingested")
            }
            let lastKind = try db.queryOne(
                """
                SELECT action FROM actions INDEXED BY actions_change
                WHERE change_id = ? AND action IN (\(kindList)) ORDER BY id DESC LIMIT 1
                """, [change.id]
            ) { $0.column(0) as String }
            let expected = lastKind.flatMap(ActionKind.init(rawValue:)).flatMap { RowFingerprint.statusAfter[$0] }
            guard expected?.rawValue == change.status else {
                return VerifyReport.RowProblem(
                    row: row,
                    reason:
                        "\(row): status is \(change.status) but its last action (\(lastKind ?? "none")) leaves it \(expected?.rawValue ?? "unknown")"
                )
            }
            return nil
        }
    }

    /// Every batch against its message: its identity against the range the message's body named
    /// (the body is checked against its fingerprint above), and its status against the last of the
    /// actions its message records for it, whose outcomes start `batch <id> <status>`.
    private static func verifyBatches(in db: AuditDatabase, into problems: inout [VerifyReport.RowProblem]) throws -> Int {
        typealias Batch = (id: Int64, message: String, status: String, arn: String, shard: String, start: String, end: String)
        return try checkEachRow(into: &problems) { after in
            var page: [(key: Int64, row: Batch)] = []
            try db.forEachRow(
                """
                SELECT id, message_id, status, stream_arn, shard_id, start_sequence, end_sequence
                FROM batches WHERE id > ? ORDER BY id LIMIT 1000
                """, [after]
            ) {
                let batch: Batch = (
                    $0.column(0), $0.column(1), $0.column(2), $0.column(3), $0.column(4), $0.column(5), $0.column(6)
                )
                page.append((batch.id, batch))
            }
            return page
        } problem: { batch in
            let row = "batch \(batch.id)"
            let body = try db.queryOne("SELECT body FROM messages WHERE message_id = ?", [batch.message]) {
                $0.column(0) as String
            }
            guard let body, case .failedBatch(let named) = DLQEnvelope(body: body), named.streamARN == batch.arn,
                named.shardID == batch.shard, named.startSequenceNumber.digits == batch.start,
                named.endSequenceNumber.digits == batch.end
            else {
                return VerifyReport.RowProblem(
                    row: row, reason: "\(row): its stream, shard or range differs from what its message named")
            }
            let lastOutcome = try db.queryOne(
                """
                SELECT outcome FROM actions INDEXED BY actions_message
                WHERE message_id = ? AND \(db.likeWithoutEscapes("outcome")) ORDER BY id DESC LIMIT 1
                """, [batch.message, "\(row) %"]
            ) { $0.column(0) as String }
            guard let recordedStatus = lastOutcome.map({ $0.dropFirst(row.count + 1).prefix { $0.isLetter || $0 == "_" } })
            else {
                return VerifyReport.RowProblem(row: row, reason: "\(row): no action of its message records it")
            }
            guard recordedStatus == batch.status else {
                return VerifyReport.RowProblem(
                    row: row, reason: "\(row): status is \(batch.status) but its last action leaves it \(recordedStatus)")
            }
            return nil
        }
    }

    /// The rows that rows or actions refer to, each check one anti-join in key order served by an
    /// index, naming its first few offenders: a deleted change, message or batch leaves its actions
    /// (and its images, changes or batches) pointing at nothing.
    private static func verifyReferences(in db: AuditDatabase, into problems: inout [VerifyReport.RowProblem]) throws {
        let limit = offendersPerCheck
        try db.forEachRow(
            """
            SELECT change_id, min(id) FROM actions INDEXED BY actions_change
            WHERE change_id > ? AND NOT EXISTS (SELECT 1 FROM changes WHERE changes.id = actions.change_id)
            GROUP BY change_id ORDER BY change_id LIMIT ?
            """, [Int64(0), limit]
        ) {
            let change: Int64 = $0.column(0)
            let action: Int64 = $0.column(1)
            problems.append(.init(row: "change \(change)", reason: "change \(change) is missing: action \(action) records it"))
        }
        try db.forEachRow(
            """
            SELECT message_id, min(id) FROM actions INDEXED BY actions_message
            WHERE message_id >= ? AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.message_id = actions.message_id)
            GROUP BY message_id ORDER BY message_id LIMIT ?
            """, ["", limit]
        ) {
            let message: String = $0.column(0)
            let action: Int64 = $0.column(1)
            problems.append(
                .init(row: "message \(message)", reason: "message \(message) is missing: action \(action) records it"))
        }
        let batch = db.batchNamed(in: "actions.outcome")
        try db.forEachRow(
            """
            SELECT id, \(batch.id) FROM actions
            WHERE id > ? AND \(batch.condition)
              AND NOT EXISTS (SELECT 1 FROM batches WHERE batches.id = \(batch.id) AND batches.message_id = actions.message_id)
            ORDER BY id LIMIT ?
            """, [Int64(0), limit]
        ) {
            let action: Int64 = $0.column(0)
            let batch: Int64 = $0.column(1)
            problems.append(
                .init(row: "batch \(batch)", reason: "batch \(batch) of its message is missing: action \(action) records it"))
        }
        try db.forEachRow(
            """
            SELECT change_id FROM change_images
            WHERE change_id > ? AND NOT EXISTS (SELECT 1 FROM changes WHERE changes.id = change_images.change_id)
            ORDER BY change_id LIMIT ?
            """, [Int64(0), limit]
        ) {
            let change: Int64 = $0.column(0)
            problems.append(.init(row: "change \(change)", reason: "change \(change) is missing but its images remain"))
        }
        try db.forEachRow(
            """
            SELECT id, message_id FROM changes
            WHERE id > ? AND message_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.message_id = changes.message_id)
            ORDER BY id LIMIT ?
            """, [Int64(0), limit]
        ) {
            let change: Int64 = $0.column(0)
            let message: String = $0.column(1)
            problems.append(.init(row: "change \(change)", reason: "change \(change): its message \(message) is missing"))
        }
        try db.forEachRow(
            """
            SELECT id, message_id FROM batches
            WHERE id > ? AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.message_id = batches.message_id)
            ORDER BY id LIMIT ?
            """, [Int64(0), limit]
        ) {
            let batch: Int64 = $0.column(0)
            let message: String = $0.column(1)
            problems.append(.init(row: "batch \(batch)", reason: "batch \(batch): its message \(message) is missing"))
        }
        guard !db.isPostgres else { return }
        // Every other reference the schema declares (PostgreSQL enforces its foreign keys itself).
        try db.forEachRow(#"SELECT "table", rowid, parent FROM pragma_foreign_key_check LIMIT ?"#, [limit]) {
            let table: String = $0.column(0)
            let rowID: Int64? = $0.column(1)
            let parent: String = $0.column(2)
            let row = "\(table) \(rowID.map(String.init) ?? "?")"
            problems.append(.init(row: row, reason: "\(row) refers to a row of \(parent) that is missing (foreign_key_check)"))
        }
    }

    /// Walks the action chain from the first action, recomputing every hash from the stored
    /// columns (see ``ActionChain``) — with this instance's key from the chain's key anchor
    /// on —, checks that the tables are complete and agree with the chain (every message,
    /// change and batch recorded by its actions, with the status its last action left, and
    /// every row an action or a row refers to present: see docs/design.md, "The audit model"), and runs
    /// `PRAGMA integrity_check`. Reads in pages (or index-served anti-joins that name only their
    /// first few offenders) from one snapshot, so memory stays flat.
    /// - Parameter expectedHead: A head recorded earlier (e.g. from `serve`'s log); the report
    ///   is broken unless the chain still holds it: that action, with that hash.
    /// - Returns: How many actions were checked, the first broken link (with the reason, naming
    ///   the action), the rows that do not agree with the chain (a few per check), the chain's head,
    ///   where it is keyed, and the integrity check's lines.
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
            var gaps: [ClosedRange<Int64>] = []
            // The head before the first gap: the end of the unbroken part.
            var unbroken: ChainHead?
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
                        // A gap: named, and the walk goes on from the action after it, whose own link
                        // cannot be checked (the hash it chains to is gone).
                        if gaps.isEmpty { unbroken = ChainHead(count: previousID, hash: headHash) }
                        gaps.append((previousID + 1)...(id - 1))
                        guard let hashBytes = ActionChain.bytes(ofHex: row.hash) else {
                            broken = (id, "action \(id): its stored hash is not a hash")
                            break pages
                        }
                        previousID = id
                        previousHash = hashBytes
                        headHash = row.hash
                        continue
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
                    if id == expectedHead?.count && gaps.isEmpty { expectedHeadHash = row.hash }
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
                    gaps.append((previousID + 1)...max(highest, anchoredAfter))
                }
            }
            if let gap = gaps.first, gap.upperBound < (broken?.0 ?? .max) {
                // The first gap comes first; the rest, and a break found after them, follow it.
                func missing(_ gap: ClosedRange<Int64>) -> String {
                    gap.count == 1 ? "action \(gap.lowerBound) is" : "actions \(gap.lowerBound)–\(gap.upperBound) are"
                }
                var reason = "action \(gap.upperBound + 1): \(missing(gap)) missing from the chain"
                let others = gaps.dropFirst().filter { $0.upperBound < (broken?.0 ?? .max) }
                for other in others { reason += "; \(missing(other)) missing too" }
                if let later = broken { reason += "; then \(later.1)" }
                broken = (gap.upperBound + 1, reason)
            }
            let head = unbroken ?? ChainHead(count: previousID, hash: headHash)
            let headReason: String? = expectedHead.flatMap { expected in
                if expected.count == 0 { return nil }
                guard let found = expectedHeadHash else {
                    return
                        "the expected head \(expected) is missing: the chain \(broken == nil ? "ends at" : "is intact only up to") action \(head.count)\(broken == nil ? "; actions were removed from its end" : "")"
                }
                return found == expected.hash
                    ? nil
                    : "the expected head \(expected) is missing: action \(expected.count) now has hash \(found.prefix(12))…; the history before it was rewritten"
            }
            let rows = try Self.verifyRows(in: db)
            let integrity = try db.integrityCheck()
            var report = VerifyReport(
                actionsChecked: checked, firstBrokenActionID: broken?.0, brokenReason: broken?.1,
                rowsChecked: rows.checked, rowProblems: rows.problems, integrityCheck: integrity, head: head,
                keyedFrom: keyedFrom, headReason: headReason)
            report.missingActions = gaps
            return report
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
