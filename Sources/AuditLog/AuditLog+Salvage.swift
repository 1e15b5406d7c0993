import Foundation
import SQLite
import StreamModel

/// What ``StoreBackup/salvage(from:to:chainKey:actor:reason:)`` read out of a damaged store.
public struct SalvageReport: Sendable, Hashable {
    /// One table's result.
    public struct Table: Sendable, Hashable {
        /// The table.
        public var name: String
        /// Rows read and copied into the new store.
        public var rows: Int
        /// The row ids (SQLite rowids: the `id` of tables that have one) that could not be read, as
        /// ranges; ids in a range that never held a row are included (a range is what the damage hid).
        public var unreadable: [ClosedRange<Int64>]
        /// Why the table could not be read at all (its whole content lost), else nil.
        public var lost: String?
    }

    /// The damaged store.
    public var source: String
    /// The new store.
    public var path: String
    /// Per table, parents before children.
    public var tables: [Table]
    /// The new store's head after the `salvaged` action.
    public var head: ChainHead

    /// Whether every row of every table was read.
    public var isComplete: Bool {
        tables.allSatisfy { $0.unreadable.isEmpty && $0.lost == nil }
    }

    /// `messages 120 (unreadable ids 40–79), changes 300, …`: the tables that held rows or lost some.
    public var summary: String {
        tables.filter { $0.rows > 0 || !$0.unreadable.isEmpty || $0.lost != nil }.map { table in
            var text = "\(table.name) \(table.rows)"
            if let lost = table.lost { text += " (lost: \(lost))" }
            if !table.unreadable.isEmpty {
                text += " (unreadable ids \(table.unreadable.map(SalvageReport.describe).joined(separator: ", ")))"
            }
            return text
        }.joined(separator: ", ")
    }

    /// `7` or `40–79`.
    public static func describe(_ range: ClosedRange<Int64>) -> String {
        range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
    }
}

extension StoreBackup {
    /// The most failed reads one table's salvage makes; past it, what is still unread is reported as
    /// unreadable ranges rather than bisected further (a damaged interior page can hide a large range).
    static let salvageReadBudget = 20_000
    /// Rows per read of a readable stretch.
    static let salvageChunk: Int64 = 512

    /// Reads every row that still reads from the damaged store at `damaged`, table by table and id
    /// range by id range (a range that fails is halved until the rows around the damage are read and
    /// what cannot be is pinned down), into a new store at `destination`; records a `salvaged` action
    /// with what was read and lost.
    ///
    /// Rows keep their ids, actions their hashes, and the chain's counter and key anchors are copied,
    /// so everything read links up as before: the chain verifies up to each gap, and `verify` on the
    /// new store names every missing stretch of actions and every row whose parent was lost (the
    /// references are kept as they were, so nothing is silently re-pointed). The damaged file is
    /// opened read-only and never changed.
    /// - Parameters:
    ///   - damaged: The damaged store.
    ///   - destination: A path that must not exist: the new store.
    ///   - chainKey: The chain's key (needed to append to a keyed chain).
    ///   - actor: Who salvages (recorded on the action).
    ///   - reason: Why (recorded on the action).
    /// - Returns: Rows read and id ranges lost per table, and the new store's head.
    /// - Throws: ``AuditLogError``: `.corrupt` when not even the schema can be read, `.storage` when the
    ///   destination exists or cannot be written, `.invalidKey` when the chain is keyed with another key.
    public static func salvage(
        from damaged: String, to destination: String, chainKey: AuditChainKey?, actor: String, reason: String?
    ) async throws(AuditLogError) -> SalvageReport {
        guard refusal(for: damaged) == nil, refusal(for: destination) == nil else {
            throw AuditLogError(code: .storage, description: "salvage reads and writes SQLite stores, not PostgreSQL")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw AuditLogError(code: .storage, description: "\(destination) exists: salvage writes a new store")
        }
        var tables: [SalvageReport.Table] = []
        do {
            let source: Connection
            do {
                source = try Connection(path: damaged, accepting: .anyDatabase, readOnly: true)
            } catch {
                throw AuditLogError(
                    code: .corrupt,
                    description: "\(damaged): not even its schema can be read (\(error)); restore a backup instead")
            }
            // A new store with this program's schema; then rows go in as they were, references unchecked.
            _ = try AuditLog(path: destination, chainKey: nil, creating: true)
            let target = try Connection(path: destination, accepting: .migrated(creating: false))
            try target.execute("PRAGMA foreign_keys = OFF")
            for table in AuditLog.copiedTables {
                tables.append(try salvage(table.name, from: source, into: target))
            }
            try copySequences(from: source, into: target)
        } catch let error as AuditLogError {
            throw error
        } catch {
            throw AuditLogError(code: .storage, description: "salvage into \(destination) failed: \(error)")
        }
        let log = try AuditLog(path: destination, chainKey: chainKey, creating: false)
        var report = SalvageReport(source: damaged, path: destination, tables: tables, head: ChainHead(count: 0, hash: ""))
        let unreadable = tables.reduce(0) { $0 + $1.unreadable.count + ($1.lost == nil ? 0 : 1) }
        try await log.appendAction(
            changeID: nil, messageID: nil,
            ActionEntry(
                action: .salvaged, actor: actor, reason: reason,
                outcome: unreadable == 0
                    ? "salvaged from \(damaged): every row read"
                    : "salvaged from \(damaged): \(report.summary)",
                response: AuditLog.salvageJSON(report)),
            at: Date())
        report.head = try await log.head()
        return report
    }

    /// Reads `table` around its damage into `target`.
    private static func salvage(_ table: String, from source: Connection, into target: Connection) throws
        -> SalvageReport.Table
    {
        var result = SalvageReport.Table(name: table, rows: 0, unreadable: [], lost: nil)
        let columns: [String]
        let keyColumn: String?
        do {
            let info = try source.query("SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", [table]) {
                (name: $0.column(0) as String, type: $0.column(1) as String, pk: $0.column(2) as Int64)
            }
            columns = info.map(\.name)
            let keys = info.filter { $0.pk > 0 }
            keyColumn = keys.count == 1 && keys[0].type.uppercased() == "INTEGER" ? keys[0].name : nil
        } catch {
            result.lost = "its columns cannot be read (\(error))"
            return result
        }
        guard !columns.isEmpty else { return result }
        let withoutRowID = (try? source.prepare("SELECT rowid FROM \(table) LIMIT 0")) == nil
        // The rowid goes along unless a column is it (an INTEGER PRIMARY KEY): messages keep their order.
        let insertColumns = (keyColumn == nil && !withoutRowID ? ["rowid"] : []) + columns
        let marks = Array(repeating: "?", count: insertColumns.count).joined(separator: ", ")
        let insert = "INSERT OR IGNORE INTO \(table) (\(insertColumns.joined(separator: ", "))) VALUES (\(marks))"
        func store(_ rows: [[SQLValue]]) throws {
            try target.transaction(.immediate) {
                for row in rows { try target.run(insert, row) }
            }
            result.rows += rows.count
        }
        if withoutRowID {
            // A small table keyed by text (reconcile's scratch rows): whole or not at all.
            do {
                try store(
                    try source.query("SELECT \(columns.joined(separator: ", ")) FROM \(table)") { row in
                        columns.indices.map { row.value(at: $0) }
                    })
            } catch {
                result.lost = "unreadable (\(error))"
            }
            return result
        }
        let selected = (keyColumn == nil ? ["rowid"] : []) + columns
        let read = "SELECT \(selected.joined(separator: ", ")) FROM \(table) WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
        // One id alone is sought, never stepped past: a range's scan reads on to the next row to see
        // where it ends, which may sit on a damaged page.
        let readOne = "SELECT \(selected.joined(separator: ", ")) FROM \(table) WHERE rowid = ?"
        func bound(_ sql: String, _ bindings: [any SQLBindable] = []) -> Int64? {
            (try? source.queryOne(sql, bindings) { $0.column(0) as Int64? }) ?? nil
        }
        let first = bound("SELECT min(rowid) FROM \(table)")
        let last = bound("SELECT max(rowid) FROM \(table)") ?? bound("SELECT seq FROM sqlite_sequence WHERE name = ?", [table])
        guard first != nil || last != nil else {
            if (try? source.queryOne("SELECT count(*) FROM \(table)") { $0.column(0) as Int64 }) == 0 { return result }
            result.lost = "neither its first nor its last row can be found"
            return result
        }
        // Without a known last id, reading goes on until this many ids in a row held no row.
        let emptyStretch = salvageChunk * 64
        var lastSeen = first ?? 1
        var next = first ?? 1
        var failures = 0
        // Halves of failed ranges, lowest ids last (popped first), so rows go in in id order.
        var halves: [ClosedRange<Int64>] = []
        while true {
            let range: ClosedRange<Int64>
            if let half = halves.popLast() {
                range = half
            } else {
                let end = last.map { min($0, next + salvageChunk - 1) } ?? next + salvageChunk - 1
                guard next <= end, last != nil || next <= lastSeen + emptyStretch else { break }
                range = next...end
                next = end + 1
            }
            let rows: [[SQLValue]]
            do {
                // Past the budget, what is left unread is reported as unreadable without more reads.
                guard failures < salvageReadBudget else { throw AuditLogError(code: .storage, description: "budget spent") }
                let single = range.lowerBound == range.upperBound
                rows = try source.query(
                    single ? readOne : read, single ? [range.lowerBound] : [range.lowerBound, range.upperBound]
                ) { row in selected.indices.map { row.value(at: $0) } }
            } catch {
                failures += 1
                if range.lowerBound == range.upperBound || failures >= salvageReadBudget {
                    lastSeen = max(lastSeen, range.upperBound)
                    if let previous = result.unreadable.last, previous.upperBound + 1 == range.lowerBound {
                        result.unreadable[result.unreadable.count - 1] = previous.lowerBound...range.upperBound
                    } else {
                        result.unreadable.append(range)
                    }
                } else {
                    let middle = range.lowerBound + (range.upperBound - range.lowerBound) / 2
                    halves.append((middle + 1)...range.upperBound)
                    halves.append(range.lowerBound...middle)
                }
                continue
            }
            if !rows.isEmpty { lastSeen = range.upperBound }
            try store(rows)
        }
        return result
    }

    /// Copies each AUTOINCREMENT counter (the largest id ever given), so new ids continue after the
    /// lost ones and `verify` sees actions missing from the end of the chain.
    private static func copySequences(from source: Connection, into target: Connection) throws {
        let sequences =
            (try? source.query("SELECT name, seq FROM sqlite_sequence") { ($0.column(0) as String, $0.column(1) as Int64) }) ?? []
        try target.transaction(.immediate) {
            for (name, seq) in sequences {
                try target.run("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", [seq, name])
                if target.changes == 0 { try target.run("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [name, seq]) }
            }
        }
    }
}

extension AuditLog {
    /// The `salvaged` action's response: what was read and lost, per table.
    static func salvageJSON(_ report: SalvageReport) -> String {
        let tables: [JSONValue] = report.tables.map { table in
            var fields: [String: JSONValue] = [
                "table": .string(table.name), "rows": .number(String(table.rows)),
                "unreadable": .array(
                    table.unreadable.map { .array([.number(String($0.lowerBound)), .number(String($0.upperBound))]) }),
            ]
            if let lost = table.lost { fields["lost"] = .string(lost) }
            return .object(fields)
        }
        return JSONValue.object(["source": .string(report.source), "tables": .array(tables)]).serialized
    }
}
