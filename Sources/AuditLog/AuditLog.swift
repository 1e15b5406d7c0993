// AuditLog: the durable store of the reprocessor — DLQ messages, the changes they carried,
// and an append-only, hash-chained record of every action taken on them — in one SQLite
// file (schema: the bundled migrations/ folder).
//
// It enforces the change state machine and answers the audit queries with keyset paging,
// so memory does not grow with the database. It talks to no network service and knows
// nothing of OpenSearch documents: callers decide, the audit log records.
import Foundation
import SQLite
import StreamModel

/// The audit log. One actor owns one SQLite connection and runs on a thread of its own, so
/// its blocking disk work never holds up the cooperative pool. Several instances (and
/// processes) may share a file: every write is one `BEGIN IMMEDIATE` transaction.
public actor AuditLog {
    /// The database file.
    public nonisolated let path: String
    let connection: Connection
    private nonisolated let executor: DedicatedThreadExecutor

    /// Runs this actor's work on its own thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens or creates the database (mode 0600) and applies the bundled migrations.
    ///
    /// With a key, every action this instance appends is keyed (HMAC-SHA-256, see
    /// ``ActionChain``). A chain that is not keyed yet is re-anchored at open: the actions
    /// before keep their SHA-256 hashes, the next one is the first keyed action, and that
    /// point is recorded in `chain_anchors`.
    /// - Parameters:
    ///   - path: The database file, e.g. `./dlq-audit.sqlite3`.
    ///   - chainKey: The audit chain key, or nil for an unkeyed chain (such an instance can
    ///     read a keyed chain but neither append to nor verify it).
    /// - Throws: ``AuditLogError``: `.corrupt` when the file is not a database, `.migration`
    ///   when its schema history does not match this program's migrations (edited or missing
    ///   migration, newer schema), `.invalidKey` when the chain is keyed with another key,
    ///   `.storage` when it cannot be opened or stays locked.
    public init(path: String, chainKey: AuditChainKey? = nil) throws(AuditLogError) {
        guard let folder = Bundle.module.url(forResource: "migrations", withExtension: nil) else {
            throw AuditLogError(code: .migration, description: "the migrations folder is missing from the AuditLog bundle")
        }
        try self.init(path: path, chainKey: chainKey, migrationsFolder: folder)
    }

    /// Opens or creates the database and applies the migrations found in `migrationsFolder`.
    /// - Throws: ``AuditLogError`` as ``init(path:chainKey:)``.
    init(path: String, chainKey: AuditChainKey? = nil, migrationsFolder: URL) throws(AuditLogError) {
        self.path = path
        do {
            let connection = try Connection(path: path)
            let migrations = try Migration.load(from: migrationsFolder)
            try connection.migrate(migrations, checksum: ActionChain.migrationChecksum)
            if let chainKey {
                // A chain already keyed with this key needs no write lock; only the first open with a key writes.
                let latest = try connection.transaction(.deferred) { try ChainAnchor.latest(in: connection) }
                if let latest, latest.keyID != chainKey.keyID { throw ChainAnchor.wrongKey(latest, chainKey) }
                if latest == nil {
                    let now = Date().databaseMilliseconds
                    try connection.transaction(.immediate) { try ChainAnchor.anchor(chainKey, at: now, in: connection) }
                }
                connection[attachment: AuditChainKeyAttachment.self] = chainKey
            }
            self.connection = connection
        } catch let error as AuditLogError {
            throw error
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)")
        }
        executor = DedicatedThreadExecutor(name: "AuditLog \((path as NSString).lastPathComponent)")
    }

    deinit {
        executor.shutDown()
    }

    // MARK: Transactions

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction, mapping database errors.
    @discardableResult
    func write<T>(_ body: (Connection) throws -> T) throws(AuditLogError) -> T {
        try mappingErrors { try connection.transaction(.immediate) { try body(connection) } }
    }

    /// Runs `body` in one read transaction: all its queries see one snapshot.
    func read<T>(_ body: (Connection) throws -> T) throws(AuditLogError) -> T {
        try mappingErrors { try connection.transaction(.deferred) { try body(connection) } }
    }

    private func mappingErrors<T>(_ body: () throws -> T) throws(AuditLogError) -> T {
        do {
            return try body()
        } catch let error as AuditLogError {
            throw error
        } catch let error as SQLiteError {
            throw AuditLogError(error)
        } catch {
            throw AuditLogError(code: .storage, description: "\(error)")
        }
    }

    /// Reports the text of every statement the connection starts, for tests that check query plans.
    func observeStatements(_ observer: @escaping @Sendable (String) -> Void) {
        connection.traceStatements(observer)
    }
}

extension Date {
    /// Milliseconds since 1970 (the database's time unit), rounded down.
    var databaseMilliseconds: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
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
