import Foundation
import Logging
import PostgresNIO
import SQLite

extension PostgresSession {
    /// The advisory lock key every migrating instance takes ("dlqmigr8" as a big-endian integer).
    static let migrationLockKey: Int64 = 7_236_283_416_011_305_528

    /// Applies the migrations the database lacks, in version order, each in its own transaction
    /// that first takes ``migrationLockKey`` with `pg_advisory_xact_lock` and re-reads the
    /// history: instances starting together apply each migration exactly once, and the lock
    /// goes with the transaction (a pooled connection never keeps it).
    ///
    /// The history rules are SQLite's (``Migration/historyProblem(applied:migrations:checksums:)``):
    /// an edited, renamed, missing or skipped migration, or a newer schema, is refused.
    /// - Returns: The migrations this call applied.
    /// - Throws: ``PostgresStoreError`` `.migration` naming the file, or `.connection`.
    static func migrate(
        _ connection: PostgresConnection, _ migrations: [Migration], checksum: (String) -> String, logger: Logger
    ) async throws(PostgresStoreError) -> [Migration] {
        let ordered = migrations.sorted { $0.version < $1.version }
        let checksums = Dictionary(uniqueKeysWithValues: ordered.map { ($0.version, checksum($0.sql)) })
        var appliedNow: [Migration] = []
        while true {
            let next: Migration?
            do {
                next = try await inTransaction(connection, logger: logger) {
                    try await applyNext(ordered, checksums: checksums, on: connection, logger: logger)
                }
            } catch let error as PostgresStoreError {
                throw error
            } catch {
                throw PostgresStoreError(code: .statement, context: "cannot migrate the database", cause: error)
            }
            guard let next else { return appliedNow }
            appliedNow.append(next)
        }
    }

    /// In the caller's transaction: takes the lock, checks the history, applies the first missing migration.
    private static func applyNext(
        _ ordered: [Migration], checksums: [Int: String], on connection: PostgresConnection, logger: Logger
    ) async throws -> Migration? {
        try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """, logger: logger)
        let applied = try await appliedMigrations(on: connection, logger: logger)
        if let problem = Migration.historyProblem(applied: applied, migrations: ordered, checksums: checksums) {
            throw PostgresStoreError(code: .migration, message: problem)
        }
        let appliedVersions = Set(applied.map(\.version))
        guard let next = ordered.first(where: { !appliedVersions.contains($0.version) }) else { return nil }
        for statement in statements(in: next.sql) {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch {
                throw PostgresStoreError(code: .migration, context: "migration \(next.fileName) failed", cause: error)
            }
        }
        let version = next.version
        let name = next.name
        let sum = checksums[next.version]!
        try await connection.query(
            """
            INSERT INTO schema_migrations (version, name, checksum, applied_at)
            VALUES (\(version), \(name), \(sum), to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
            """, logger: logger)
        return next
    }

    /// Runs `body` between `BEGIN` and `COMMIT`, rolling back when it throws; its error is rethrown as it is.
    private static func inTransaction<T: Sendable>(
        _ connection: PostgresConnection, logger: Logger, _ body: () async throws -> T
    ) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        do {
            let value = try await body()
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    static func appliedMigrations(on connection: PostgresConnection, logger: Logger) async throws -> [AppliedMigration] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        var hasTable = false
        for try await (value) in exists.decode(Bool.self) { hasTable = value }
        guard hasTable else { return [] }
        let rows = try await connection.query(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version", logger: logger)
        var applied: [AppliedMigration] = []
        for try await (version, name, checksum, appliedAt) in rows.decode((Int64, String, String, String).self) {
            applied.append(AppliedMigration(version: Int(version), name: name, checksum: checksum, appliedAt: appliedAt))
        }
        return applied
    }

    /// Splits a migration script into its statements: at each `;` outside quotes
    /// (`'…'`, `"…"`), dollar quotes (`$$…$$`, `$tag$…$tag$`) and comments. Comments outside
    /// statements are dropped; empty statements are skipped.
    static func statements(in sql: String) -> [String] {
        let characters = Array(sql)
        var statements: [String] = []
        var current = ""
        var index = 0
        func finish() {
            let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current = ""
        }
        /// Copies from `index` through the first `terminator` at or after `from`, or to the end.
        func copy(through terminator: [Character], from start: Int) {
            var end = start
            while end < characters.count {
                if Array(characters[end..<min(characters.count, end + terminator.count)]) == terminator {
                    end += terminator.count
                    current.append(contentsOf: characters[index..<end])
                    index = end
                    return
                }
                end += 1
            }
            current.append(contentsOf: characters[index...])
            index = characters.count
        }
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case "-" where next == "-":
                while index < characters.count, characters[index] != "\n" { index += 1 }
            case "/" where next == "*":
                var end = index + 2
                while end + 1 < characters.count, !(characters[end] == "*" && characters[end + 1] == "/") { end += 1 }
                index = min(characters.count, end + 2)
            case "'", "\"":
                copy(through: [character], from: index + 1)
            case "$":
                var end = index + 1
                while end < characters.count,
                    characters[end] == "_" || characters[end].isLetter
                        || (end > index + 1 && characters[end].isNumber)
                {
                    end += 1
                }
                if end < characters.count, characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    copy(through: tag, from: end + 1)
                } else {
                    current.append(character)
                    index += 1
                }
            case ";":
                finish()
                index += 1
            default:
                current.append(character)
                index += 1
            }
        }
        finish()
        return statements
    }
}
