// PostgresStore: the PostgreSQL connection layer of the shared audit store (issue 15), the
// counterpart of the `SQLite` module: where the server is (a `postgres://` URL), one
// connection used synchronously from the audit log's own thread (``PostgresSession``), and the
// migration runner. It does not know the audit log's rows or rules: `AuditLog` owns those and
// hands this module its SQL (in PostgreSQL's `$n` form) and its migrations.
//
// Why synchronous: the audit log is an actor on a thread of its own (SQLite's blocking I/O
// never occupies the cooperative pool), and its store code is one body of synchronous
// transactions for both backends. A ``PostgresSession`` waits on postgres-nio's event-loop
// futures from that thread, which is never an event loop's and never the cooperative pool's.
import Foundation
import Logging
import PostgresNIO
import SQLite

/// One connection to a PostgreSQL database, for one thread that is neither an event loop's
/// nor the cooperative pool's (the audit log's own): every call waits for the server's answer.
///
/// A connection the server or the network dropped is replaced at the next statement outside a
/// transaction; inside one, the statement fails with `.connection` and the transaction is gone
/// (the server rolled it back), so the caller's unit of work fails whole and can be retried.
///
/// `@unchecked Sendable`: it is created in an async context and then used by one thread at a
/// time (the audit log actor's); `connection` is only touched from that thread.
public final class PostgresSession: @unchecked Sendable {
    /// Where the database is (its description hides the password).
    public let url: PostgresURL
    /// The migrations the open applied, in order (empty when the schema was up to date).
    public let appliedAtOpen: [Migration]
    /// Statements sent through ``run(_:_:inTransaction:)`` and ``copy(into:columns:rows:inTransaction:)``
    /// since the session opened: each one exchange with the server (what the benchmark counts per
    /// replay round).
    public internal(set) var roundTrips = 0
    /// Where the statements' time went since the session opened (see ``StatementTimes``).
    public internal(set) var times = StatementTimes()
    private var connection: PostgresConnection?
    private let configuration: PostgresConnection.Configuration
    /// Where postgres-nio logs.
    let logger: Logger

    private init(
        url: PostgresURL, configuration: PostgresConnection.Configuration, connection: PostgresConnection, logger: Logger,
        applied: [Migration]
    ) {
        self.url = url
        self.configuration = configuration
        self.connection = connection
        self.logger = logger
        self.appliedAtOpen = applied
    }

    deinit {
        close()
    }

    /// Connects to the database at `url` and applies the migrations it does not have yet.
    ///
    /// Instances opening together are safe: each migration is applied in its own
    /// transaction under a transaction-scoped advisory lock, after re-reading the history.
    /// - Parameters:
    ///   - url: The database.
    ///   - migrations: Every migration the program knows (`migrations/postgres/`).
    ///   - checksum: Computes the recorded checksum of a migration's SQL (SHA-256 hex, as SQLite's).
    ///   - creating: Whether a database without a store (no `schema_migrations` table) is made one;
    ///     when false it is refused.
    ///   - logger: Where postgres-nio logs.
    /// - Returns: The open session; ``appliedAtOpen`` says what this open migrated.
    /// - Throws: ``PostgresStoreError``: `.connection` when the server cannot be reached or
    ///   refuses the login or TLS (with the server's SQLSTATE when it answered), `.migration`
    ///   naming the file when the history does not match the migrations or one fails, `.missing`
    ///   when the database holds no store and `creating` is false.
    public static func open(
        _ url: PostgresURL, migrations: [Migration], checksum: (String) -> String, creating: Bool = true,
        logger: Logger = Logger(label: "PostgresStore")
    ) async throws(PostgresStoreError) -> PostgresSession {
        let configuration = try connectionConfiguration(url)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw PostgresStoreError(code: .connection, context: "cannot connect to \(url)", cause: error)
        }
        let applied: [Migration]
        do {
            if !creating { try await requireStore(on: connection, url: url, logger: logger) }
            applied = try await migrate(connection, migrations, checksum: checksum, logger: logger)
        } catch {
            _ = try? await connection.close()
            throw error
        }
        return PostgresSession(url: url, configuration: configuration, connection: connection, logger: logger, applied: applied)
    }

    /// Refuses a database without a store (no migration history), before anything is created in it.
    private static func requireStore(on connection: PostgresConnection, url: PostgresURL, logger: Logger)
        async throws(PostgresStoreError)
    {
        let applied: [AppliedMigration]
        do {
            applied = try await appliedMigrations(on: connection, logger: logger)
        } catch {
            throw PostgresStoreError(code: .statement, context: "cannot read the migration history", cause: error)
        }
        guard applied.isEmpty else { return }
        throw PostgresStoreError(code: .missing, message: "the database \(url) holds no audit store (no schema_migrations table)")
    }

    /// Runs one statement (`$1`, `$2`… for `bindings`) and waits for all its rows.
    /// - Returns: The rows, converted to ``SQLValue``s, and how many rows it inserted, updated
    ///   or deleted (0 for other statements).
    /// - Throws: ``PostgresStoreError``: `.statement` with the server's message and SQLSTATE,
    ///   `.connection` when the connection is lost (the next call outside a transaction reconnects).
    public func run(_ sql: String, _ bindings: [SQLValue] = [], inTransaction: Bool) throws(PostgresStoreError) -> (
        rows: [SQLValueRow], affected: Int
    ) {
        let connection = try liveConnection(inTransaction: inTransaction)
        roundTrips += 1
        let bindingStarted = ContinuousClock.now
        var binds = PostgresBindings(capacity: bindings.count)
        for value in bindings {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        // Each row is converted as it arrives, so a page is held once (as values), not twice.
        let rows = RowCollector()
        let metadata: PostgresQueryMetadata
        let started = ContinuousClock.now
        times.binding += started - bindingStarted
        defer {
            times.statements += ContinuousClock.now - started
            times.decoding += rows.decoding
        }
        do {
            metadata = try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) { row in
                let converting = ContinuousClock.now
                let values = SQLValueRow(row.map(Self.value))
                rows.append(values, decoding: ContinuousClock.now - converting)
            }.wait()
        } catch {
            throw failure(error, on: connection, context: "statement failed")
        }
        return (rows.collected, metadata.rows ?? 0)
    }

    /// `error`, thrown by a statement on `connection`, as a ``PostgresStoreError``: `.statement`
    /// with the server's message and SQLSTATE, or `.connection` when the connection is gone (it
    /// is forgotten, so the next call outside a transaction reconnects).
    func failure(_ error: any Error, on connection: PostgresConnection, context: String) -> PostgresStoreError {
        if connection.isClosed { self.connection = nil }
        let failure = PostgresStoreError(code: .statement, context: context, cause: error)
        return connection.isClosed && failure.code == .statement
            ? PostgresStoreError(code: .connection, message: failure.message, sqlState: failure.sqlState) : failure
    }

    /// The migrations recorded in the database, by version.
    /// - Throws: ``PostgresStoreError``.
    public func appliedMigrations() throws(PostgresStoreError) -> [AppliedMigration] {
        try run("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version", inTransaction: false).rows
            .map {
                AppliedMigration(
                    version: Int($0.int64(at: 0)), name: $0.string(at: 1), checksum: $0.string(at: 2), appliedAt: $0.string(at: 3)
                )
            }
    }

    /// Closes the connection; waits until it has.
    public func close() {
        _ = try? connection?.close().wait()
        connection = nil
    }

    /// The open connection, or a new one when it was lost and no transaction is open.
    func liveConnection(inTransaction: Bool) throws(PostgresStoreError) -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        guard !inTransaction else {
            throw PostgresStoreError(
                code: .connection, message: "the connection to \(url) was lost in the middle of a transaction")
        }
        do {
            let fresh = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
            ).wait()
            connection = fresh
            return fresh
        } catch {
            throw PostgresStoreError(code: .connection, context: "cannot reconnect to \(url)", cause: error)
        }
    }

    /// A cell as a ``SQLValue``: integers (and booleans, as 1 and 0) as `.integer`, floating
    /// point as `.real`, `numeric` as `.integer` when whole, `bytea` as `.blob`, the rest as text.
    static func value(_ cell: PostgresCell) -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return (try? cell.decode(Int64.self)).map(SQLValue.integer) ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(SQLValue.real) ?? .null
        case .numeric:
            guard let decimal = try? cell.decode(Decimal.self) else { return .null }
            if let whole = Int64(exactly: NSDecimalNumber(decimal: decimal).doubleValue), Decimal(whole) == decimal {
                return .integer(whole)
            }
            return .real(NSDecimalNumber(decimal: decimal).doubleValue)
        case .bytea:
            return (try? cell.decode(ByteBuffer.self)).map { .blob(Array($0.readableBytesView)) } ?? .null
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .null
        }
    }

    /// The connection settings `url` asks for, TLS included.
    static func connectionConfiguration(_ url: PostgresURL) throws(PostgresStoreError) -> PostgresConnection.Configuration {
        let tls = try tlsConfiguration(url)
        let sslContext: NIOSSLContext
        do {
            sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw PostgresStoreError(code: .invalidURL, message: "the database URL's TLS settings cannot be used: \(error)")
        }
        let connectionTLS: PostgresConnection.Configuration.TLS =
            switch url.sslMode {
            case .disable: .disable
            case .allow, .prefer: .prefer(sslContext)
            case .require, .verifyCA, .verifyFull: .require(sslContext)
            }
        return PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: connectionTLS)
    }

    /// The TLS settings `url`'s `sslmode` and `sslrootcert` ask for (used when TLS is tried at all).
    /// - Throws: ``PostgresStoreError`` `.invalidURL` when the `sslrootcert` file is missing.
    static func tlsConfiguration(_ url: PostgresURL) throws(PostgresStoreError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable, .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let roots = url.sslRootCertificate {
            guard FileManager.default.isReadableFile(atPath: roots) else {
                throw PostgresStoreError(code: .invalidURL, message: "the database URL's sslrootcert \(roots) cannot be read")
            }
            configuration.trustRoots = .file(roots)
        }
        return configuration
    }
}

/// Where a session's statements spent their time, since it opened.
public struct StatementTimes: Sendable, Hashable {
    /// From sending each statement to receiving its last row: the server's work, the network,
    /// and ``decoding``.
    public var statements = Duration.zero
    /// Converting result cells to values, as the rows arrive (on the connection's event loop).
    public var decoding = Duration.zero
    /// Building the statements' bindings.
    public var binding = Duration.zero
}

/// The rows of one statement as they arrive on the event loop, read once the statement is done.
///
/// `@unchecked Sendable`: `rows` is only touched with `lock` held.
private final class RowCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [SQLValueRow] = []
    private var decodingTime = Duration.zero

    func append(_ row: SQLValueRow, decoding: Duration) {
        lock.lock()
        rows.append(row)
        decodingTime += decoding
        lock.unlock()
    }

    /// The time spent converting the rows.
    var decoding: Duration {
        lock.lock()
        defer { lock.unlock() }
        return decodingTime
    }

    var collected: [SQLValueRow] {
        lock.lock()
        defer { lock.unlock() }
        return rows
    }
}
