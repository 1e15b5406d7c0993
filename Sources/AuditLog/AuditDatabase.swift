import Foundation
import PostgresStore
import SQLite
import StreamModel

/// The database behind an audit log: a SQLite file (the embedded default) or a shared
/// PostgreSQL server. The audit log's code is one body of SQL for both; this class runs it on
/// the backend the log was opened on and owns the few places where the two differ.
///
/// The SQL is written in SQLite's dialect, in the subset both understand (`coalesce`,
/// `ON CONFLICT`, `RETURNING`, row values). For PostgreSQL each statement is rewritten once
/// (``PostgresDialect``) and cached: `?` and `?N` become `$n`, `ifnull` becomes `coalesce`,
/// `INDEXED BY` hints are dropped (the planner chooses), and `json_each(?)` becomes
/// `json_array_elements_text($n::json)`.
///
/// Transactions keep SQLite's semantics on both backends. A writer (``TransactionKind/immediate``)
/// holds the one write lock from its start: SQLite's `BEGIN IMMEDIATE`, and on PostgreSQL a
/// `FOR UPDATE` lock on the `chain_head` row, which every writer takes first, so writers (and
/// the appends to the action chain) are serialised as in SQLite while readers never wait. A
/// reader (``TransactionKind/deferred``) sees one snapshot: `BEGIN DEFERRED`, and on
/// PostgreSQL `REPEATABLE READ`.
///
/// Used from the audit log actor's own thread only.
final class AuditDatabase {
    /// Which database this is.
    enum Backend {
        /// A SQLite file.
        case sqlite(Connection)
        /// A PostgreSQL database.
        case postgres(PostgresSession)
    }

    let backend: Backend
    /// The key that keys the actions this instance appends (nil for an unkeyed chain).
    var chainKey: AuditChainKey?
    /// The chain's end after the last append of the open write transaction (nil before its first
    /// append, and outside transactions: every transaction starts and ends without one).
    var chainTail: ChainTail?
    /// On PostgreSQL, inside a writer's transaction: the chain's end (the newest action's id and
    /// hash, nil when the lock's snapshot did not see that action) as the `chain_head` lock read
    /// it at the transaction's start. Nothing in a writer moves the chain's end but its appends
    /// (which carry ``chainTail`` from then on) and the store copy (which appends nothing after),
    /// so the first append needs no read of its own.
    var lockedChainEnd: (lastID: Int64, hash: String?)?
    /// What this database has done since it opened, for the benchmark's breakdown.
    var counters = StoreCounters()
    /// Whether an audit log method is being timed (``timingCall(_:_:)``).
    var inCall = false
    /// On SQLite, the running totals of time inside SQLite's calls.
    var sqliteTotals = StatementTotals()
    /// On SQLite, the running total of time spent in the caller's code inside statements.
    private var sqliteExcluded = Duration.zero
    /// On PostgreSQL, the running total of time building JSON parameters (``jsonRecords(columns:values:)``).
    var postgresEncoding = Duration.zero
    /// On PostgreSQL, called with the text of every statement the audit log's SQL becomes, as it
    /// is sent (never the bound values), for tests that check query plans. SQLite's connection
    /// traces its own statements (``Connection/traceStatements(_:)``).
    var postgresStatementObserver: (@Sendable (String) -> Void)?
    private var translated: [String: String] = [:]
    private var insertStatements: [InsertShape: String] = [:]
    private var postgresTransactionOpen = false

    init(_ backend: Backend) {
        self.backend = backend
    }

    /// Whether this is the PostgreSQL backend.
    var isPostgres: Bool {
        if case .postgres = backend { return true }
        return false
    }

    /// The time expiries are judged by, in milliseconds since 1970: the database's own clock on
    /// PostgreSQL (`clock_timestamp()`, so a fleet's claims and leases expire by one clock
    /// whatever each worker's says), else `local`, the one machine's clock a SQLite store has.
    func expiryClock(_ local: Date) throws -> Int64 {
        guard isPostgres else { return local.databaseMilliseconds }
        return try postgresNowMilliseconds() ?? local.databaseMilliseconds
    }

    /// ``expiryClock(_:)`` as SQL, with its bindings: on PostgreSQL an expression of the
    /// database's clock (no round trip of its own), else `?` bound to `local`.
    func expiryClockSQL(_ local: Date) -> (sql: String, bindings: [any SQLBindable]) {
        isPostgres
            ? ("CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)", [])
            : ("?", [local.databaseMilliseconds])
    }

    /// The PostgreSQL server's clock now (`clock_timestamp()`), in milliseconds since 1970.
    func postgresNowMilliseconds() throws -> Int64? {
        try queryOne("SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)") { $0.column(0) as Int64 }
    }

    // MARK: Statements

    /// Runs one statement with positional `bindings`.
    /// - Returns: How many rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ bindings: [any SQLBindable] = []) throws -> Int {
        switch backend {
        case .sqlite(let connection):
            return try timingSQLite { try connection.run(sql, bindings) }
        case .postgres(let session):
            return try run(sql, bindings, on: session).affected
        }
    }

    /// Runs a query and calls `body` for each row, in order. On SQLite rows stream; on
    /// PostgreSQL a query's rows arrive whole, so callers page large scans (they all do).
    func forEachRow(_ sql: String, _ bindings: [any SQLBindable] = [], _ body: (any SQLRow) throws -> Void) throws {
        switch backend {
        case .sqlite(let connection):
            try timingSQLite { try connection.forEachRow(sql, bindings) { row in try outsideSQLite { try body(row) } } }
        case .postgres(let session):
            for row in try run(sql, bindings, on: session).rows {
                try body(row)
            }
        }
    }

    /// Runs a query and maps each row with `row`.
    func query<Row>(_ sql: String, _ bindings: [any SQLBindable] = [], row: (any SQLRow) throws -> Row) throws -> [Row] {
        var rows: [Row] = []
        try forEachRow(sql, bindings) { rows.append(try row($0)) }
        return rows
    }

    /// Runs a query and maps its first row with `row` (nil when there is none).
    func queryOne<Row>(_ sql: String, _ bindings: [any SQLBindable] = [], row: (any SQLRow) throws -> Row) throws -> Row? {
        switch backend {
        case .sqlite(let connection):
            var first: Row?
            try timingSQLite {
                _ = try connection.queryOne(sql, bindings) { cells in try outsideSQLite { first = try row(cells) } }
            }
            return first
        case .postgres(let session):
            let rows = try run(sql, bindings, on: session).rows
            return try rows.first.map(row)
        }
    }

    /// Inserts rows into `table`, many to a statement: `values` holds the rows one after
    /// another, `columns.count` values each.
    func insertRows(into table: String, columns: [String], values: [SQLValue]) throws {
        _ = try insertRows(into: table, columns: columns, values: values, suffix: "") { _ in () }
    }

    /// Inserts rows into `table`, many to a statement, each statement ending with `suffix`
    /// (e.g. `ON CONFLICT DO NOTHING RETURNING …`), and maps the rows the statements return
    /// with `row`. On PostgreSQL all the rows go in one statement, whatever their number, so a
    /// round of the write engine costs one round trip per table: a plain insert (no `suffix`)
    /// of ``copyThreshold`` rows or more is a `COPY … FROM STDIN` (no JSON to build or parse);
    /// any other is one statement of one parameter, a JSON array of records read with
    /// `json_populate_recordset`.
    func insertRows<Row>(
        into table: String, columns: [String], values: [SQLValue], suffix: String, row: (any SQLRow) throws -> Row
    ) throws -> [Row] {
        precondition(!columns.isEmpty && values.count % columns.count == 0, "a row has one value per column")
        if case .postgres(let session) = backend {
            guard !values.isEmpty else { return [] }
            let names = columns.joined(separator: ", ")
            if suffix.isEmpty && values.count / columns.count >= Self.copyThreshold {
                // No RETURNING, so no rows to map.
                postgresStatementObserver?("COPY \(table) (\(names)) FROM STDIN")
                try session.copy(into: table, columns: columns, rows: values, inTransaction: postgresTransactionOpen)
                return []
            }
            let sql =
                "INSERT INTO \(table) (\(names)) SELECT \(names) FROM json_populate_recordset(NULL::\(table), CAST(? AS json))"
                + (suffix.isEmpty ? "" : " " + suffix)
            return try run(sql, [timedJSONRecords(columns: columns, values: values)], on: session).rows.map(row)
        }
        let rowCount = values.count / columns.count
        // At most 999 parameters a statement (SQLite's oldest limit).
        let rowsPerStatement = max(1, min(64, 999 / columns.count))
        var returned: [Row] = []
        var first = 0
        while first < rowCount {
            let count = min(rowsPerStatement, rowCount - first)
            let sql = insertStatement(table, columns, rows: count, suffix: suffix)
            let rowValues = values[(first * columns.count)..<((first + count) * columns.count)]
            if case .sqlite(let connection) = backend {
                try timingSQLite {
                    try connection.forEachRow(sql, values: rowValues) { cells in
                        try outsideSQLite { returned.append(try row(cells)) }
                    }
                }
            }
            first += count
        }
        return returned
    }

    /// The fewest rows a plain insert on PostgreSQL sends by COPY rather than as JSON. A COPY
    /// waits for the server twice (to start it, then for its end) where a statement waits once,
    /// and saves about 11 µs a row (encoding, and the server's parsing): on a local server it
    /// pays from about 10 rows, across a network of 1 ms a round trip from about 90
    /// (docs/performance-postgres.md, "Audit inserts by COPY", has the measurements).
    static let copyThreshold = 100

    /// ``jsonRecords(columns:values:)``, its time counted as encoding (``StoreCounters``).
    func timedJSONRecords(columns: [String], values: [SQLValue]) -> String {
        let started = ContinuousClock.now
        defer { postgresEncoding += ContinuousClock.now - started }
        return Self.jsonRecords(columns: columns, values: values)
    }

    /// `values`, `columns.count` to a row, as a JSON array of objects keyed by column name, as
    /// PostgreSQL's `json_populate_recordset` and `json_to_recordset` read them: integers and
    /// reals as numbers, text as strings, blobs as `bytea`'s hex text (`\x…`), NULL as null.
    static func jsonRecords(columns: [String], values: [SQLValue]) -> String {
        let keys = columns.map { JSONValue.string($0).serialized + ":" }
        var json = "["
        json.reserveCapacity(values.count * 16)
        for (index, value) in values.enumerated() {
            let column = index % columns.count
            json += column == 0 ? (index == 0 ? "{" : ",{") : ","
            json += keys[column]
            switch value {
            case .null: json += "null"
            case .integer(let integer): json += String(integer)
            case .real(let real): json += real.isFinite ? "\(real)" : "null"
            case .text(let text): json += JSONValue.string(text).serialized
            case .blob(let bytes): json += JSONValue.string("\\x" + ActionChain.hex(bytes)).serialized
            }
            if column == columns.count - 1 { json += "}" }
        }
        return json + "]"
    }

    /// Runs `body`, one SQLite statement, counting its time in ``sqliteTotals`` but for the time
    /// its rows spend in the caller's code (``outsideSQLite(_:)``).
    private func timingSQLite<T>(_ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        let excludedBefore = sqliteExcluded
        defer {
            sqliteTotals.statements += ContinuousClock.now - started - (sqliteExcluded - excludedBefore)
            sqliteTotals.count += 1
        }
        return try body()
    }

    /// Runs `work`, the caller's code called from inside a SQLite statement (a row's, a
    /// transaction's body), so that its time is not the statement's (statements inside it count
    /// their own).
    private func outsideSQLite<T>(_ work: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        let excludedBefore = sqliteExcluded
        defer { sqliteExcluded = excludedBefore + (ContinuousClock.now - started) }
        return try work()
    }

    /// `INSERT INTO table (columns) VALUES (?, …), … suffix` for `rows` rows (cached).
    private func insertStatement(_ table: String, _ columns: [String], rows: Int, suffix: String) -> String {
        let key = InsertShape(table: table, rows: rows, suffix: suffix)
        if let sql = insertStatements[key] { return sql }
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let sql =
            "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            + Array(repeating: row, count: rows).joined(separator: ", ") + (suffix.isEmpty ? "" : " " + suffix)
        insertStatements[key] = sql
        return sql
    }

    private struct InsertShape: Hashable {
        var table: String
        var rows: Int
        var suffix: String
    }

    // MARK: Transactions

    /// Runs `body` in one transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// ``TransactionKind/immediate`` takes the write lock first (see the type's note);
    /// ``TransactionKind/deferred`` reads one snapshot.
    func transaction<T>(_ kind: TransactionKind, _ body: () throws -> T) throws -> T {
        chainTail = nil
        lockedChainEnd = nil
        counters.transactions += 1
        defer {
            chainTail = nil
            lockedChainEnd = nil
        }
        switch backend {
        case .sqlite(let connection):
            // BEGIN and COMMIT (its sync to disk) are SQLite's time; the body counts its own.
            var result: T?
            try timingSQLite { try connection.transaction(kind) { try outsideSQLite { result = try body() } } }
            guard let result else { preconditionFailure("a transaction that returned ran its body") }
            return result
        case .postgres(let session):
            _ = try session.run(kind == .immediate ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ", inTransaction: false)
            postgresTransactionOpen = true
            defer { postgresTransactionOpen = false }
            do {
                if kind == .immediate {
                    // The lock reads the chain's end with it, for the transaction's first append.
                    let started = ContinuousClock.now
                    let head = try session.run(
                        """
                        SELECT h.last_action_id, a.id, a.hash FROM chain_head AS h
                            LEFT JOIN actions AS a ON a.id = h.last_action_id
                        WHERE h.id = 1 FOR UPDATE OF h
                        """, inTransaction: true
                    ).rows.first
                    counters.chainLockWaiting += ContinuousClock.now - started
                    // The hash counts only when it is the hash of that very action (see lockedChainEnd).
                    lockedChainEnd = head.map { row in
                        let lastID = row.column(0) as Int64
                        return (lastID: lastID, hash: row.column(1) as Int64? == lastID ? row.column(2) as String? : nil)
                    }
                }
                let result = try body()
                // The chain's end moved in this transaction: `chain_head` follows, once, at commit.
                if let tail = chainTail {
                    _ = try session.run(
                        "UPDATE chain_head SET last_action_id = $1 WHERE id = 1", [.integer(tail.lastID)], inTransaction: true)
                }
                _ = try session.run("COMMIT", inTransaction: true)
                return result
            } catch {
                _ = try? session.run("ROLLBACK", inTransaction: true)
                throw error
            }
        }
    }

    // MARK: Where the backends differ

    /// The id of the newest action ever appended (0 when none was): SQLite's `AUTOINCREMENT`
    /// counter, PostgreSQL's `chain_head` row (moved at the commit of each appending
    /// transaction). Either survives deleting rows from the end of the chain, which is how
    /// verify notices such a deletion.
    func highestActionID() throws -> Int64 {
        switch backend {
        case .sqlite:
            try queryOne("SELECT seq FROM sqlite_sequence WHERE name = 'actions'") { $0.column(0) as Int64 } ?? 0
        case .postgres:
            try queryOne("SELECT last_action_id FROM chain_head WHERE id = 1") { $0.column(0) as Int64 } ?? 0
        }
    }

    /// The storage's own consistency check: SQLite's `PRAGMA integrity_check` lines (`["ok"]`
    /// when the file is sound). PostgreSQL checks its pages itself (checksums, WAL), so it
    /// reports `["ok"]`.
    func integrityCheck() throws -> [String] {
        switch backend {
        case .sqlite(let connection):
            try connection.query("PRAGMA integrity_check") { $0.column(0) as String }
        case .postgres:
            ["ok"]
        }
    }

    /// The SQL expression that reads the text member `member` of the JSON object in `column`.
    func jsonText(_ column: String, member: String) -> String {
        isPostgres ? "((\(column)::jsonb) ->> '\(member)')" : "json_extract(\(column), '$.\(member)')"
    }

    /// The condition that `column` (an action's outcome) names a batch, `batch <id> …`, and the
    /// SQL expression of that id.
    func batchNamed(in column: String) -> (condition: String, id: String) {
        isPostgres
            ? ("\(column) ~ '^batch [0-9]+ '", "CAST(substring(\(column) from '^batch ([0-9]+) ') AS BIGINT)")
            : ("\(column) GLOB 'batch [0-9]* *'", "CAST(substr(\(column), 7) AS INTEGER)")
    }

    /// `column` matched against a LIKE pattern parameter as SQLite's `LIKE` matches: ASCII
    /// letters case-insensitively and no escape character (PostgreSQL: `ILIKE … ESCAPE ''`).
    func likeWithoutEscapes(_ column: String) -> String {
        isPostgres ? "\(column) ILIKE ? ESCAPE ''" : "\(column) LIKE ?"
    }

    /// Runs `sql`, rewritten in PostgreSQL's dialect, on `session`, in the open transaction if there is one.
    private func run(_ sql: String, _ bindings: [any SQLBindable], on session: PostgresSession) throws -> (
        rows: [SQLValueRow], affected: Int
    ) {
        let statement = postgres(sql)
        postgresStatementObserver?(statement)
        return try session.run(statement, bindings.map(\.sqlValue), inTransaction: postgresTransactionOpen)
    }

    /// `sql` in PostgreSQL's dialect (cached).
    private func postgres(_ sql: String) -> String {
        if let cached = translated[sql] { return cached }
        let statement = PostgresDialect.translate(sql)
        translated[sql] = statement
        return statement
    }
}
