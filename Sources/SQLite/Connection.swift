internal import CSQLite
// SQLite: a small Swift wrapper over libsqlite3 for the audit log.
//
// It opens database files (WAL, foreign keys on, busy timeout, mode 0600 once recognised), compiles and
// caches statements, binds and reads typed values, runs transactions and applies
// migrations. It knows nothing about the audit log's tables, and raw SQLite handles
// never leave this module.
import Foundation

/// One connection to a database file. Not Sendable: one owner (an actor) holds it and
/// makes every call; SQLite itself runs in multi-thread mode, so the owner may move
/// between threads but must never share the connection.
public final class Connection {
    /// The database file's path.
    public let path: String
    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    public let busyTimeout: Duration
    let handle: OpaquePointer
    /// Compiled statements by SQL text, each with when it was last used (see ``cachedStatement(_:)``).
    private var statementCache: [String: (statement: Statement, lastUse: UInt64)] = [:]
    /// Uses of the statement cache so far: the clock of its least-recently-used eviction.
    private var statementUses: UInt64 = 0
    /// How many compiled statements the cache keeps at most.
    public static let statementCacheLimit = 128
    private var statementObserver: StatementObserver?
    var attachments: [ObjectIdentifier: Any] = [:]

    /// Which files ``init(path:busyTimeout:accepting:)`` opens, and whether it may create one.
    public enum Acceptance: Sendable, Hashable {
        /// Any SQLite database; a missing file is created.
        case anyDatabase
        /// A database that has a migration history (a `schema_migrations` table, as
        /// ``Connection/migrate(_:checksum:)`` leaves it). With `creating`, also a new database that
        /// the caller then migrates: a missing file (created), an empty file, or a database without tables.
        case migrated(creating: Bool)

        var creates: Bool {
            switch self {
            case .anyDatabase: true
            case .migrated(let creating): creating
            }
        }
    }

    /// Opens the database at `path`, creating it when `acceptance` allows.
    ///
    /// Before SQLite opens anything: a symbolic link (the file, its `-wal` or `-shm`) is refused, not
    /// followed; so is anything but a regular file. A file that is not a database is refused at
    /// SQLite's first read, which changes nothing in it. A missing file is created with mode 0600 only when `acceptance` allows, and
    /// the modes of existing files are changed only once the file is recognised as one `acceptance`
    /// accepts: then the database and its `-wal` and `-shm` files are set to 0600 (SQLite gives the
    /// `-wal` and `-shm` files it creates the same mode). The connection uses WAL journaling,
    /// `synchronous = FULL` (a commit is durable when it returns), foreign keys, defensive mode (no
    /// writes to the schema table) and extended result codes.
    /// - Parameters:
    ///   - path: The database file.
    ///   - busyTimeout: How long to wait for another connection's lock.
    ///   - acceptance: Which files are accepted, and whether a missing one is created.
    ///   - readOnly: Opens the file read-only (`SQLITE_OPEN_READONLY`): nothing is created, the journal
    ///     mode is left as it is, and a mode is only ever narrowed. Such a connection answers on a full
    ///     disk or a file it may not write; any write through it fails with `SQLITE_READONLY`.
    /// - Throws: ``SQLiteError``: code ``SQLiteError/Code/missing`` when the file does not exist and may
    ///   not be created, ``SQLiteError/Code/foreign`` when it is a database (or an empty file) that
    ///   `acceptance` does not accept; `SQLITE_CANTOPEN` when the file cannot be opened or created, is
    ///   a symbolic link, is not a regular file, or cannot be made mode 0600, `SQLITE_NOTADB` when it is
    ///   not a SQLite database, `SQLITE_BUSY` when another connection keeps it locked past the timeout.
    ///   The description names the file.
    public init(
        path: String, busyTimeout: Duration = .seconds(5), accepting acceptance: Acceptance = .anyDatabase,
        readOnly: Bool = false
    ) throws(SQLiteError) {
        self.path = path
        self.busyTimeout = busyTimeout
        let isFile = !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
        if isFile { try Self.checkFiles(path, create: acceptance.creates && !readOnly) }
        // A checked file exists by now: SQLite must not create one (nor another in its place).
        let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (isFile ? 0 : SQLITE_OPEN_CREATE)
        let flags = access | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW
        let handle = try Self.openHandle(path, flags: flags, readOnly: readOnly && isFile)
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
        var enabled: Int32 = 0
        csqlite_db_config_enable_fkey(handle, 1, &enabled)
        csqlite_db_config_defensive(handle, 1, &enabled)
        // The first statement reads the file header: a file that is not a database fails here.
        let tables = try firstRow("SELECT count(*) FROM sqlite_schema") { $0.int64(at: 0) } ?? 0
        if case .migrated(let creating) = acceptance {
            let hasHistory =
                try firstRow("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") { _ in true }
                ?? false
            guard hasHistory || (creating && tables == 0) else {
                throw SQLiteError(
                    code: .foreign, resultCode: nil,
                    message: tables == 0
                        ? "\(path) is empty: not a database this program made"
                        : "\(path) is a SQLite database this program did not make (it has no schema_migrations table)",
                    path: path)
            }
        }
        if isFile { try Self.makePrivate(path, readOnly: readOnly) }
        // A read-only connection changes nothing: it reads the file in whatever journal mode it is.
        guard !readOnly else {
            try execute("PRAGMA foreign_keys = ON")
            return
        }
        let journalMode = try firstRow("PRAGMA journal_mode = WAL") { $0.string(at: 0) }
        guard journalMode?.lowercased() == "wal" else {
            throw SQLiteError(
                code: .database, resultCode: .SQLITE_ERROR,
                message: "could not switch to WAL journaling (journal mode is \(journalMode ?? "unknown"))",
                sql: "PRAGMA journal_mode = WAL", path: path)
        }
        try execute("PRAGMA synchronous = FULL")
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Opens the handle. A read-only open whose first read fails because the shared-memory index
    /// cannot be made (a full disk: creating and sizing the `-shm` file needs room; a folder the
    /// reader may not write) falls back, when
    /// there is no write-ahead log (so no writer has the file open and the file itself is whole), to
    /// reading the file as immutable: no `-shm`, no locks, nothing written.
    private static func openHandle(_ path: String, flags: Int32, readOnly: Bool) throws(SQLiteError) -> OpaquePointer {
        func attempt(_ name: String, _ flags: Int32) -> (OpaquePointer?, Int32) {
            var handle: OpaquePointer?
            var code = sqlite3_open_v2(name, &handle, flags, nil)
            // A read-only open reads at once, so that the fallback below can be chosen here.
            if code == SQLITE_OK, readOnly, let handle {
                code = sqlite3_exec(handle, "SELECT count(*) FROM sqlite_schema", nil, nil, nil)
            }
            return (handle, code)
        }
        let (handle, code) = attempt(path, flags)
        if code == SQLITE_OK, let handle { return handle }
        let error = SQLiteError(connection: handle, resultCode: code, sql: nil, path: path)
        sqlite3_close_v2(handle)
        var walStatus = stat()
        let noLog = lstat(path + "-wal", &walStatus) != 0 || walStatus.st_size == 0
        if readOnly, noLog, [SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY].contains(code & 0xFF),
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)
        {
            let (fallback, fallbackCode) = attempt("file:\(encoded)?immutable=1", flags | SQLITE_OPEN_URI)
            if fallbackCode == SQLITE_OK, let fallback { return fallback }
            sqlite3_close_v2(fallback)
        }
        throw error
    }

    private static func refusal(_ path: String, _ message: String) -> SQLiteError {
        SQLiteError(code: .database, resultCode: .SQLITE_CANTOPEN, message: message, path: path)
    }

    /// Checks the files before SQLite opens them, changing no mode: creates `path` (mode 0600) when
    /// it is missing and `create` allows; refuses a symbolic link or anything but a regular file (the
    /// database, its `-wal`, its `-shm`). An existing file is only looked at (`lstat`), never opened:
    /// closing a descriptor of it would drop the POSIX locks another connection of this process holds
    /// on it. SQLite's first read then refuses a file that is not a database.
    private static func checkFiles(_ path: String, create: Bool) throws(SQLiteError) {
        var status = stat()
        if lstat(path, &status) != 0 {
            let number = errno
            guard number == ENOENT else { throw openFailure(path, number) }
            guard create else {
                throw SQLiteError(code: .missing, resultCode: nil, message: "\(path) does not exist", path: path)
            }
            // A new file, so no connection has it open: this descriptor may be closed.
            let descriptor = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR)
            guard descriptor >= 0 else { throw openFailure(path, errno) }
            close(descriptor)
        } else if status.st_mode & S_IFMT == S_IFLNK {
            throw openFailure(path, ELOOP)
        } else if status.st_mode & S_IFMT != S_IFREG {
            throw refusal(path, "\(path) is not a regular file")
        }
        for suffix in ["-wal", "-shm"] {
            var status = stat()
            guard lstat(path + suffix, &status) == 0 else {
                if errno == ENOENT { continue }
                throw openFailure(path + suffix, errno)
            }
            if status.st_mode & S_IFMT == S_IFLNK { throw openFailure(path + suffix, ELOOP) }
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw refusal(path + suffix, "\(path + suffix) is not a regular file")
            }
        }
    }

    private static func openFailure(_ path: String, _ number: Int32) -> SQLiteError {
        if number == ELOOP {
            return refusal(path, "\(path) is a symbolic link, which is not followed: give the path of the file itself")
        }
        return refusal(path, "cannot open or create the file: \(String(cString: strerror(number)))")
    }

    /// Makes the database and its `-wal` and `-shm` files (those that exist) mode 0600, once the
    /// database is known to be one the caller accepts; `readOnly`, it only takes away what 0600 does
    /// not allow (a file its owner made 0400 stays 0400), and leaves a file it does not own as it is.
    ///
    /// By path, never through a descriptor of its own: the connection is open by now, and closing
    /// any other descriptor of these files would drop the POSIX locks SQLite holds on them (WAL
    /// readers and writers would no longer see each other). A symbolic link is not followed.
    private static func makePrivate(_ path: String, readOnly: Bool) throws(SQLiteError) {
        for file in [path, path + "-wal", path + "-shm"] {
            var status = stat()
            guard lstat(file, &status) == 0 else {
                let number = errno
                if number == ENOENT && file != path { continue }
                throw openFailure(file, number)
            }
            if status.st_mode & S_IFMT == S_IFLNK { throw openFailure(file, ELOOP) }
            guard status.st_mode & S_IFMT == S_IFREG else { throw refusal(file, "\(file) is not a regular file") }
            let mode = status.st_mode & 0o777
            let wanted = readOnly ? mode & 0o600 : 0o600
            guard mode != wanted else { continue }
            guard fchmodat(AT_FDCWD, file, wanted, AT_SYMLINK_NOFOLLOW) == 0 else {
                // A reader that does not own the file cannot narrow its mode; reading it changes nothing.
                if readOnly && errno == EPERM { continue }
                throw refusal(
                    file,
                    "\(file) has mode \(String(mode, radix: 8)) and cannot be made 0600 (\(String(cString: strerror(errno)))): "
                        + "the audit log must be readable by its owner only; chmod 600 it as its owner")
            }
        }
    }

    private func error(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(connection: handle, resultCode: code, sql: sql, path: path)
    }

    // MARK: Statements

    /// Compiles `sql` into a new statement that the caller owns (not cached).
    /// - Throws: ``SQLiteError`` if SQLite rejects the SQL or it holds more than one statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        try Statement(sql: sql, connection: handle, path: path)
    }

    /// The cached statement for `sql` (compiled on first use), reset and with its bindings cleared.
    ///
    /// If the cached statement is still being stepped (a nested use of the same SQL),
    /// a fresh uncached statement is returned so the outer use is not disturbed.
    ///
    /// The cache keeps the ``statementCacheLimit`` statements used most recently: SQL whose text
    /// varies with its arguments (an `IN (?, ?, …)` list, a multi-row `VALUES`) is compiled anew
    /// for each new length, and a long-running process would otherwise keep every one of them,
    /// its memory growing with how long it runs (seen as peak memory growing with the backlog).
    /// - Throws: ``SQLiteError`` if SQLite rejects the SQL.
    public func cachedStatement(_ sql: String) throws(SQLiteError) -> Statement {
        statementUses += 1
        // One lookup (the SQL text hashed once) on this hot path.
        if let index = statementCache.index(forKey: sql) {
            let statement = statementCache.values[index].statement
            guard !statement.isBusy else { return try prepare(sql) }
            statementCache.values[index].lastUse = statementUses
            statement.reset()
            statement.clearBindings()
            return statement
        }
        let statement = try prepare(sql)
        if statementCache.count >= Self.statementCacheLimit { evictLeastRecentlyUsedStatements() }
        statementCache[sql] = (statement, statementUses)
        return statement
    }

    /// How many statements the cache holds now.
    public var cachedStatementCount: Int { statementCache.count }

    /// Drops the least recently used quarter of the cached statements that no one is stepping (a
    /// quarter at a time, so that the scan is paid once per many compilations). A dropped
    /// statement is finalized once no caller holds it.
    private func evictLeastRecentlyUsedStatements() {
        let idle = statementCache.filter { !$0.value.statement.isBusy }.sorted { $0.value.lastUse < $1.value.lastUse }
        for (sql, _) in idle.prefix(max(1, Self.statementCacheLimit / 4)) { statementCache[sql] = nil }
    }

    /// Runs a script of one or more statements without parameters (e.g. a migration), in order.
    /// - Throws: ``SQLiteError`` naming the statement that failed; statements before it stay applied
    ///   unless the caller runs the script inside a transaction.
    public func execute(_ sql: String) throws(SQLiteError) {
        let bytes = Array(sql.utf8CString)
        var offset = 0
        while offset < bytes.count - 1 {
            var handle: OpaquePointer?
            var consumed = 0
            let code = bytes.withUnsafeBufferPointer { buffer in
                let start = buffer.baseAddress! + offset
                var tail: UnsafePointer<CChar>?
                let code = sqlite3_prepare_v2(self.handle, start, -1, &handle, &tail)
                consumed = tail.map { $0 - start } ?? (bytes.count - 1 - offset)
                return code
            }
            let statementText = String(decoding: bytes[offset..<offset + consumed].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard code == SQLITE_OK else {
                let failure = error(code, sql: statementText)
                sqlite3_finalize(handle)
                throw failure
            }
            offset += max(consumed, 1)
            guard let handle else { continue }  // only whitespace or comments
            defer { sqlite3_finalize(handle) }
            var stepCode = sqlite3_step(handle)
            while stepCode == SQLITE_ROW { stepCode = sqlite3_step(handle) }
            guard stepCode == SQLITE_DONE else { throw error(stepCode, sql: statementText) }
        }
    }

    /// Runs one statement with positional `bindings` through the statement cache.
    /// - Returns: How many rows it inserted, updated or deleted.
    /// - Throws: ``SQLiteError``.
    @discardableResult
    public func run(_ sql: String, _ bindings: [any SQLBindable] = []) throws(SQLiteError) -> Int {
        let statement = try cachedStatement(sql)
        try statement.execute(bindings)
        return changes
    }

    /// Runs a query through the statement cache and calls `body` for each row, in order.
    /// Rows are not collected: memory stays flat however many rows there are.
    /// - Throws: ``SQLiteError``, or whatever `body` throws (the statement is reset either way).
    public func forEachRow(_ sql: String, _ bindings: [any SQLBindable] = [], _ body: (Statement) throws -> Void) throws {
        try forEachRow(sql, binding: { try $0.bind(bindings) }, body)
    }

    /// Runs a statement through the statement cache with plain values bound to its parameters
    /// 1...n (no boxing: for many parameters) and calls `body` for each row it returns, in order.
    /// - Throws: ``SQLiteError``, or whatever `body` throws (the statement is reset either way).
    public func forEachRow(
        _ sql: String, values: ArraySlice<SQLValue>, _ body: (Statement) throws -> Void
    ) throws {
        try forEachRow(sql, binding: { try $0.bind(values: values) }, body)
    }

    private func forEachRow(
        _ sql: String, binding bind: (Statement) throws -> Void, _ body: (Statement) throws -> Void
    ) throws {
        let statement = try cachedStatement(sql)
        try bind(statement)
        defer { statement.reset() }
        while try statement.step() {
            try body(statement)
        }
    }

    /// Runs a query and maps each row with `row`.
    /// - Throws: ``SQLiteError``, or whatever `row` throws.
    public func query<Row>(_ sql: String, _ bindings: [any SQLBindable] = [], row: (Statement) throws -> Row) throws -> [Row] {
        var rows: [Row] = []
        try forEachRow(sql, bindings) { rows.append(try row($0)) }
        return rows
    }

    /// Runs a query and maps its first row with `row` (nil when there is none).
    /// - Throws: ``SQLiteError``, or whatever `row` throws.
    public func queryOne<Row>(_ sql: String, _ bindings: [any SQLBindable] = [], row: (Statement) throws -> Row) throws -> Row? {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        defer { statement.reset() }
        return try statement.step() ? try row(statement) : nil
    }

    /// The first row mapped with a reader that cannot fail (nil when there is none); typed throws.
    func firstRow<Row>(_ sql: String, _ bindings: [any SQLBindable] = [], row: (Statement) -> Row) throws(SQLiteError) -> Row? {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        defer { statement.reset() }
        return try statement.step() ? row(statement) : nil
    }

    // MARK: Tracing

    /// Calls `observer` with the SQL text (never the bound values) of every statement as it
    /// starts running on this connection; nil stops tracing.
    public func traceStatements(_ observer: ((String) -> Void)?) {
        guard let observer else {
            sqlite3_trace_v2(handle, 0, nil, nil)
            statementObserver = nil
            return
        }
        let box = StatementObserver(observer)
        statementObserver = box
        sqlite3_trace_v2(
            handle, UInt32(SQLITE_TRACE_STMT),
            { _, context, statement, _ in
                guard let context, let statement, let text = sqlite3_sql(OpaquePointer(statement)) else { return 0 }
                Unmanaged<StatementObserver>.fromOpaque(context).takeUnretainedValue().observer(String(cString: text))
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
    }

    // MARK: State

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int {
        Int(sqlite3_changes64(handle))
    }

    /// The rowid of the last inserted row.
    public var lastInsertRowID: Int64 {
        sqlite3_last_insert_rowid(handle)
    }

    /// Whether a transaction is open.
    public var isInTransaction: Bool {
        sqlite3_get_autocommit(handle) == 0
    }
}

@available(*, unavailable)
extension Connection: Sendable {}

/// Holds a trace observer for SQLite's C callback (the connection keeps it alive).
private final class StatementObserver {
    let observer: (String) -> Void

    init(_ observer: @escaping (String) -> Void) {
        self.observer = observer
    }
}
