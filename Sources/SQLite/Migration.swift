import Foundation

/// One schema migration: a numbered SQL script, loaded from a file named `NNNN_name.sql`.
public struct Migration: Sendable, Hashable {
    /// The number that orders migrations (the file's `NNNN`).
    public var version: Int
    /// The file's `name` part.
    public var name: String
    /// The SQL script. It must not contain BEGIN/COMMIT: the runner wraps it in a transaction.
    public var sql: String

    /// Makes a migration from its parts.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The file name this migration has in its folder: `0001_audit_log.sql`.
    public var fileName: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name + ".sql"
    }

    /// Loads every `NNNN_name.sql` file of `folder`, ordered by version.
    ///
    /// Files not ending in `.sql` are ignored; a `.sql` file with another name, two files with
    /// the same version, or version 0 is an error (a typo must not silently skip a migration).
    /// - Throws: ``SQLiteError`` with code ``SQLiteError/Code/migration`` naming the file.
    public static func load(from folder: URL) throws(SQLiteError) -> [Migration] {
        let fileNames: [String]
        do {
            fileNames = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw SQLiteError(
                code: .migration, resultCode: nil, message: "cannot read the migrations folder: \(error.localizedDescription)",
                path: folder.path)
        }
        var files: [(fileName: String, sql: String)] = []
        for fileName in fileNames.sorted() where fileName.hasSuffix(".sql") {
            let fileURL = folder.appendingPathComponent(fileName)
            do {
                files.append((fileName, try String(contentsOf: fileURL, encoding: .utf8)))
            } catch {
                throw SQLiteError(
                    code: .migration, resultCode: nil,
                    message: "cannot read migration \(fileName): \(error.localizedDescription)",
                    path: fileURL.path)
            }
        }
        return try load(files: files, from: folder.path)
    }

    /// Makes the migrations of `files` (file name and text, e.g. built into the binary), ordered by
    /// version, with the rules of ``load(from:)``: every name `NNNN_name.sql`, no version twice, none 0.
    /// - Parameters:
    ///   - files: Each file's name (`0001_audit_log.sql`) and text.
    ///   - origin: Where the files come from, for error messages.
    /// - Throws: ``SQLiteError`` with code ``SQLiteError/Code/migration`` naming the file.
    public static func load(files: [(fileName: String, sql: String)], from origin: String) throws(SQLiteError) -> [Migration] {
        var migrations: [Int: Migration] = [:]
        for (fileName, sql) in files {
            let filePath = (origin as NSString).appendingPathComponent(fileName)
            guard let (version, name) = parse(fileName: fileName) else {
                throw SQLiteError(
                    code: .migration, resultCode: nil,
                    message:
                        "migration file \(fileName) is not named NNNN_name.sql (four digits from 0001, then letters, digits or _)",
                    path: filePath)
            }
            if let existing = migrations[version] {
                throw SQLiteError(
                    code: .migration, resultCode: nil,
                    message: "migrations \(existing.fileName) and \(fileName) have the same version \(version)",
                    path: filePath)
            }
            migrations[version] = Migration(version: version, name: name, sql: sql)
        }
        return migrations.values.sorted { $0.version < $1.version }
    }

    /// `0001_audit_log.sql` → (1, "audit_log").
    private static func parse(fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(".sql".count)
        let digits = stem.prefix(4)
        let separator = stem.dropFirst(4).first
        let name = stem.dropFirst(5)
        guard digits.count == 4, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), separator == "_", !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
            let version = Int(digits), version > 0
        else { return nil }
        return (version, String(name))
    }
}

/// A migration as recorded in the database's `schema_migrations` table.
public struct AppliedMigration: Sendable, Hashable {
    /// Its version.
    public var version: Int
    /// Its name when applied.
    public var name: String
    /// The checksum of its SQL when applied.
    public var checksum: String
    /// When it was applied (ISO-8601 text, UTC).
    public var appliedAt: String

    /// Makes a record from its parts (as another store's runner reads them).
    public init(version: Int, name: String, checksum: String, appliedAt: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
    }
}

extension Connection {
    /// Applies the migrations the database does not have yet, in version order, each in its
    /// own `BEGIN IMMEDIATE` transaction, and records each in `schema_migrations` with its
    /// checksum. Opening an up-to-date database applies nothing and takes no write lock.
    ///
    /// Never re-runs a migration silently. It fails, changing nothing more, when:
    /// an applied migration's file text changed (checksum differs) or was renamed or removed;
    /// the database's schema is newer than the newest file; a new file has a version below one
    /// already applied; or a migration's SQL fails (that migration is rolled back).
    /// Safe against another process migrating the same file at the same time: the history is
    /// re-read under the write lock before each migration.
    /// - Parameters:
    ///   - migrations: Every migration the program knows, e.g. from ``Migration/load(from:)``.
    ///   - checksum: Computes the recorded checksum of a migration's SQL text (e.g. SHA-256 hex).
    /// - Returns: The migrations applied by this call (empty when the database was up to date).
    /// - Throws: ``SQLiteError`` with code ``SQLiteError/Code/migration`` whose message names the file or version,
    ///   or a database error (e.g. `SQLITE_BUSY`).
    @discardableResult
    public func migrate(_ migrations: [Migration], checksum: (String) -> String) throws(SQLiteError) -> [Migration] {
        let ordered = migrations.sorted { $0.version < $1.version }
        let checksums = Dictionary(uniqueKeysWithValues: ordered.map { ($0.version, checksum($0.sql)) })
        // Fast path without a write lock: the database already has exactly these migrations.
        let upToDate = try rethrowingSQLiteError {
            try transaction(.deferred) { () throws(SQLiteError) -> Bool in
                guard try hasMigrationTable() else { return false }
                let applied = try appliedMigrations()
                try validate(applied: applied, against: ordered, checksums: checksums)
                return applied.count == ordered.count
            }
        }
        guard !upToDate else { return [] }
        var appliedNow: [Migration] = []
        while true {
            let next = try rethrowingSQLiteError {
                try transaction(.immediate) { () throws(SQLiteError) -> Migration? in
                    try execute(
                        """
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version INTEGER PRIMARY KEY,
                            name TEXT NOT NULL,
                            checksum TEXT NOT NULL,
                            applied_at TEXT NOT NULL
                        )
                        """)
                    let applied = try appliedMigrations()
                    try validate(applied: applied, against: ordered, checksums: checksums)
                    let appliedVersions = Set(applied.map(\.version))
                    guard let next = ordered.first(where: { !appliedVersions.contains($0.version) }) else { return nil }
                    do throws(SQLiteError) {
                        try execute(next.sql)
                    } catch {
                        throw SQLiteError(
                            code: .migration, resultCode: error.resultCode,
                            message: "migration \(next.fileName) failed: \(error.message)", sql: error.sql, path: path)
                    }
                    try run(
                        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                        [next.version, next.name, checksums[next.version]!])
                    return next
                }
            }
            guard let next else { return appliedNow }
            appliedNow.append(next)
        }
    }

    /// The migrations recorded in the database, by version (empty when it has no history table).
    /// - Throws: ``SQLiteError``.
    public func appliedMigrations() throws(SQLiteError) -> [AppliedMigration] {
        guard try hasMigrationTable() else { return [] }
        return try rethrowingSQLiteError {
            try query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version") {
                AppliedMigration(version: $0.column(0), name: $0.column(1), checksum: $0.column(2), appliedAt: $0.column(3))
            }
        }
    }

    private func hasMigrationTable() throws(SQLiteError) -> Bool {
        try firstRow("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'") { _ in true } ?? false
    }

    private func validate(applied: [AppliedMigration], against migrations: [Migration], checksums: [Int: String])
        throws(SQLiteError)
    {
        if let problem = Migration.historyProblem(applied: applied, migrations: migrations, checksums: checksums) {
            throw SQLiteError(code: .migration, resultCode: nil, message: problem, path: path)
        }
    }
}

extension Migration {
    /// What is wrong with a database's migration history against the program's migrations,
    /// or nil when nothing is: the rules every store's runner keeps (SQLite's, PostgreSQL's).
    ///
    /// Refused: a schema newer than the newest file; an applied migration whose file is
    /// missing, renamed, or whose text changed (checksum differs); a file older than the
    /// newest applied migration that was never applied.
    /// - Parameters:
    ///   - applied: The history recorded in the database, by version.
    ///   - migrations: Every migration the program knows, by version.
    ///   - checksums: Each migration's checksum, by version.
    /// - Returns: One line naming the file or version at fault, or nil.
    public static func historyProblem(applied: [AppliedMigration], migrations: [Migration], checksums: [Int: String])
        -> String?
    {
        let latestFile = migrations.last
        if let newest = applied.last, newest.version > latestFile?.version ?? 0 {
            return
                "database schema \(newest.version) is newer than this binary (latest \(latestFile?.fileName ?? "none")); use a newer dlq-reprocessor"
        }
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for record in applied {
            let recordedName = Migration(version: record.version, name: record.name, sql: "").fileName
            guard let file = byVersion[record.version] else {
                return "migration \(recordedName) was applied to this database but its file is missing"
            }
            guard file.name == record.name else {
                return "migration \(recordedName) was applied to this database but the file is now named \(file.fileName)"
            }
            guard checksums[record.version] == record.checksum else {
                return
                    "migration \(file.fileName) changed after it was applied (recorded checksum \(record.checksum.prefix(12))…, file has \(checksums[record.version]!.prefix(12))…); restore the file and put the change in a new migration"
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        if let newestApplied = applied.last,
            let skipped = migrations.first(where: { !appliedVersions.contains($0.version) && $0.version < newestApplied.version })
        {
            return
                "migration \(skipped.fileName) is older than the database's schema \(newestApplied.version) but was never applied; renumber it after \(newestApplied.version)"
        }
        return nil
    }
}

/// Runs `body`, whose only possible error is a ``SQLiteError`` (closures passed to the
/// untyped-throws helpers), and gives that error back with its type.
func rethrowingSQLiteError<T>(_ body: () throws -> T) throws(SQLiteError) -> T {
    do {
        return try body()
    } catch let error as SQLiteError {
        throw error
    } catch {
        // A programmer error: the body throws nothing but SQLiteError.
        preconditionFailure("only SQLiteError can be thrown here, got \(error)")
    }
}
