// AuditLog: the durable store of the reprocessor — DLQ messages, the changes they carried,
// and an append-only, hash-chained record of every action taken on them — in one SQLite
// file (the embedded default) or a shared PostgreSQL database (schema: the package's
// migrations/ folder, migrations/postgres/ for PostgreSQL, built into the binary).
//
// It enforces the change state machine and answers the audit queries with keyset paging,
// so memory does not grow with the database. It talks to no network service and knows
// nothing of OpenSearch documents: callers decide, the audit log records.
import Foundation
import PostgresStore
import SQLite
import StreamModel

/// The audit log. One actor owns one database connection and runs on a thread of its own, so
/// its blocking work (SQLite's disk I/O, waiting for PostgreSQL's answers) never holds up the
/// cooperative pool. Several instances (and processes) may share a store: every write is one
/// transaction holding the store's write lock (see ``AuditDatabase``).
public actor AuditLog {
    /// Where the store is: the SQLite file's path, or the PostgreSQL URL without its password.
    public nonisolated let path: String
    let database: AuditDatabase
    private nonisolated let executor: DedicatedThreadExecutor

    /// Runs this actor's work on its own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Whether the store is a shared PostgreSQL database (else a SQLite file).
    public nonisolated var isShared: Bool {
        Self.isSharedLocation(path)
    }

    /// Whether `location` (a `--db` or `AUDIT_DB` value) names a shared PostgreSQL store: a
    /// `postgres://` or `postgresql://` URL. Anything else is a SQLite file's path.
    public static func isSharedLocation(_ location: String) -> Bool {
        PostgresURL.isPostgresLocation(location)
    }

    /// Opens (or, with `creating`, creates) the SQLite database and applies the migrations built into
    /// the binary.
    ///
    /// The file must be an audit store (a SQLite database with this program's migration history);
    /// with `creating`, a missing file is created (mode 0600), and an empty file or a database without
    /// tables is made a store. Modes are changed (to 0600) only once the file is recognised as a store.
    ///
    /// With a key, every action this instance appends is keyed (HMAC-SHA-256, see
    /// ``ActionChain``). A chain that is not keyed yet is re-anchored at open: the actions
    /// before keep their SHA-256 hashes, the next one is the first keyed action, and that
    /// point is recorded in `chain_anchors`.
    /// - Parameters:
    ///   - path: The database file, e.g. `./dlq-audit.sqlite3`.
    ///   - chainKey: The audit chain key, or nil for an unkeyed chain (such an instance can
    ///     read a keyed chain but neither append to nor verify it).
    ///   - creating: Whether a store may be created here (commands that write); when false a
    ///     missing file is refused.
    ///   - readOnly: Opens the file read-only, for commands that only read: nothing is created,
    ///     migrated or anchored, so they answer on a full disk or from a file they may not write, and
    ///     every write fails. A store whose migrations are not all applied yet is opened for writing
    ///     and migrated instead, as by any command (on a full disk that fails with SQLite's reason).
    /// - Throws: ``AuditLogError``: `.missingStore` when the file does not exist and `creating` is
    ///   false (or `readOnly`), `.corrupt` when the file is not a database or not an audit store, `.migration`
    ///   when its schema history does not match this program's migrations (edited or missing
    ///   migration, newer schema), `.invalidKey` when the chain is keyed with another key,
    ///   `.storage` when it cannot be opened or stays locked.
    public init(path: String, chainKey: AuditChainKey? = nil, creating: Bool = true, readOnly: Bool = false)
        throws(AuditLogError)
    {
        let database: AuditDatabase
        do {
            let migrations = try Self.migrations(EmbeddedMigrations.sqlite, from: "migrations")
            var connection = try Connection(
                path: path, accepting: .migrated(creating: creating && !readOnly), readOnly: readOnly)
            // A store this program has not fully migrated yet is migrated by whichever command opens
            // it first, as before: a read-only open gives way to a writing one.
            let opensReadOnly = try readOnly && Self.isMigrated(connection, migrations)
            if readOnly && !opensReadOnly {
                connection = try Connection(path: path, accepting: .migrated(creating: false))
            }
            // Statement journals in memory: a write inside a transaction that may fail part-way
            // (a CHECK, UNIQUE or foreign key) journals the pages it changes so that it can be undone
            // alone. On disk that is a temporary file and two write calls per page per statement, most
            // of an ingest's system time; in memory, a few pages per statement. Durability is the
            // same: this journal only ever undoes an unfinished statement. (A read-only open's sorts
            // stay in memory too: a full disk has no room for their files.)
            try connection.execute("PRAGMA temp_store = MEMORY")
            if !opensReadOnly {
                try connection.migrate(migrations, checksum: ActionChain.migrationChecksum)
            }
            database = AuditDatabase(.sqlite(connection))
            if opensReadOnly {
                try Self.holdKey(chainKey, in: database)
            } else {
                try Self.anchor(chainKey, in: database)
                try Self.fillErrorGroups(in: database)
            }
        } catch let error as AuditLogError {
            throw error
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)", cause: error)
        }
        self.init(path: path, database: database, threadName: "AuditLog \((path as NSString).lastPathComponent)")
    }

    /// Opens the store at `location`: a `postgres://` (or `postgresql://`) URL opens the shared
    /// PostgreSQL database, anything else is a SQLite file's path (see ``init(path:chainKey:creating:)``).
    ///
    /// PostgreSQL's migrations (`migrations/postgres/`) are applied at open, each under an
    /// advisory lock, so instances starting together apply each once.
    /// - Parameters:
    ///   - location: The path or URL (`sslmode` and the password as ``PostgresURL`` reads them).
    ///   - chainKey: As for ``init(path:chainKey:creating:)``.
    ///   - creating: Whether a store may be created there; when false a missing file, or a PostgreSQL
    ///     database without the store's tables, is refused (`.missingStore`).
    ///   - environment: Where `PGPASSWORD` is read when the URL has no password.
    ///   - readOnly: For a SQLite file, as ``init(path:chainKey:creating:readOnly:)`` (PostgreSQL answers
    ///     reads on its own terms: ignored there).
    /// - Throws: ``AuditLogError`` as ``init(path:chainKey:creating:readOnly:)``; for PostgreSQL `.storage` when the
    ///   URL is invalid or the server cannot be reached or refuses the login.
    public init(
        location: String, chainKey: AuditChainKey? = nil, creating: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment, readOnly: Bool = false
    ) async throws(AuditLogError) {
        guard PostgresURL.isPostgresLocation(location) else {
            try self.init(path: location, chainKey: chainKey, creating: creating, readOnly: readOnly)
            return
        }
        let session: PostgresSession
        do {
            let url = try PostgresURL(location, environment: environment)
            session = try await PostgresSession.open(
                url, migrations: try Self.migrations(EmbeddedMigrations.postgres, from: "migrations/postgres"),
                checksum: ActionChain.migrationChecksum, creating: creating)
        } catch let error as PostgresStoreError {
            throw AuditLogError(error)
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch let error as AuditLogError {
            throw error
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)", cause: error)
        }
        self.init(path: session.url.description, database: AuditDatabase(.postgres(session)), threadName: "AuditLog PostgreSQL")
        try anchorChain(chainKey)
        try fillErrorGroups()
    }

    private init(path: String, database: AuditDatabase, threadName: String) {
        self.path = path
        self.database = database
        executor = DedicatedThreadExecutor(name: threadName)
    }

    /// The migrations built into the binary (``EmbeddedMigrations``), as the runners apply them.
    static func migrations(_ files: [(fileName: String, sql: String)], from origin: String) throws(AuditLogError) -> [Migration] {
        do {
            return try Migration.load(files: files, from: origin)
        } catch {
            throw AuditLogError(error)
        }
    }

    /// On the actor's thread (PostgreSQL's answers are waited for there): ``anchor(_:in:)``.
    private func anchorChain(_ chainKey: AuditChainKey?) throws(AuditLogError) {
        try mappingErrors { try Self.anchor(chainKey, in: database) }
    }

    /// Keys the chain with `chainKey` from the next action on (a chain already keyed with it
    /// needs no write lock: only the first open with a key writes), and holds the key.
    private static func anchor(_ chainKey: AuditChainKey?, in database: AuditDatabase) throws {
        guard let chainKey else { return }
        let latest = try database.transaction(.deferred) { try ChainAnchor.latest(in: database) }
        if let latest, latest.keyID != chainKey.keyID { throw ChainAnchor.wrongKey(latest, chainKey) }
        if latest == nil {
            let now = Date().databaseMilliseconds
            try database.transaction(.immediate) { try ChainAnchor.anchor(chainKey, at: now, in: database) }
        }
        database.chainKey = chainKey
    }

    /// A read-only open's check: whether the file holds every one of this program's migrations.
    /// - Throws: ``AuditLogError`` `.migration` when it holds one this program does not know (a newer
    ///   schema) or one applied from other text: no open, read-only or not, accepts such a file.
    private static func isMigrated(_ connection: Connection, _ migrations: [Migration]) throws -> Bool {
        let applied = try connection.appliedMigrations()
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for migration in applied {
            guard let ours = known[migration.version] else {
                throw AuditLogError(
                    code: .migration,
                    description:
                        "\(connection.path) has migration \(migration.version) (\(migration.name)), which this program does not know: use a newer dlq-reprocessor"
                )
            }
            guard ActionChain.migrationChecksum(ours.sql) == migration.checksum else {
                throw AuditLogError(
                    code: .migration,
                    description: "\(connection.path): migration \(ours.fileName) was applied from different text")
            }
        }
        return applied.count == migrations.count
    }

    /// A read-only open's key: held when it is the chain's key (nothing is anchored).
    private static func holdKey(_ chainKey: AuditChainKey?, in database: AuditDatabase) throws {
        guard let chainKey else { return }
        let latest = try database.transaction(.deferred) { try ChainAnchor.latest(in: database) }
        if let latest, latest.keyID != chainKey.keyID { throw ChainAnchor.wrongKey(latest, chainKey) }
        database.chainKey = chainKey
    }

    deinit {
        executor.shutDown()
    }

    // MARK: Transactions

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, mapping database errors; its time is
    /// counted for `call`, the calling method (``StoreCounters/calls``), as for ``statement(_:_:)``,
    /// ``read(_:_:)`` and ``mappingErrors(_:_:)``.
    @discardableResult
    func write<T>(_ call: String = #function, _ body: (AuditDatabase) throws -> T) throws(AuditLogError) -> T {
        try mappingErrors(call) { try database.transaction(.immediate) { try body(database) } }
    }

    /// Runs `body`, one statement, in no transaction of its own: the statement is atomic and
    /// sees one snapshot by itself, and on PostgreSQL it then costs one round trip, not three
    /// (no `BEGIN` and `COMMIT`).
    func statement<T>(_ call: String = #function, _ body: (AuditDatabase) throws -> T) throws(AuditLogError) -> T {
        try mappingErrors(call) { try body(database) }
    }

    /// Runs `body` in one read transaction: all its queries see one snapshot.
    func read<T>(_ call: String = #function, _ body: (AuditDatabase) throws -> T) throws(AuditLogError) -> T {
        try mappingErrors(call) { try database.transaction(.deferred) { try body(database) } }
    }

    func mappingErrors<T>(_ call: String = #function, _ body: () throws -> T) throws(AuditLogError) -> T {
        do {
            return try database.timingCall(call, body)
        } catch let error as AuditLogError {
            throw error
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch let error as PostgresStoreError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)", cause: error)
        }
    }

    /// Reports the text of every statement the database starts, for tests that check query plans:
    /// on PostgreSQL the statement as rewritten in its dialect (see ``AuditDatabase``).
    func observeStatements(_ observer: @escaping @Sendable (String) -> Void) {
        switch database.backend {
        case .sqlite(let connection): connection.traceStatements(observer)
        case .postgres: database.postgresStatementObserver = observer
        }
    }
}

extension Date {
    /// Milliseconds since 1970 (the database's time unit), rounded down; saturating at
    /// `Int64.min` and `Int64.max`, with a time that is not a number as 1970 (a front end's
    /// input layer keeps times within year 1970 to 9999, so this only guards against a trap).
    var databaseMilliseconds: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded(.down)
        if milliseconds.isNaN { return 0 }
        if milliseconds >= 0x1p63 { return .max }
        if milliseconds < -0x1p63 { return .min }
        return Int64(milliseconds)
    }

    /// The date of a database time.
    init(databaseMilliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(databaseMilliseconds) / 1000)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
