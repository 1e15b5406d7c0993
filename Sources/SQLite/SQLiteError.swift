internal import CSQLite

/// The one error type of the SQLite module: a failed SQLite call (with its extended
/// result code, SQLite's message and the SQL, never the bound values) or a migrations
/// folder that does not match the database.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case database
            case migration
            case missing
            case foreign
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// SQLite returned an error result code (see ``SQLiteError/resultCode``).
        public static let database = Code(.database)
        /// The migrations folder and the database's migration history disagree, or a migration failed.
        public static let migration = Code(.migration)
        /// The database file does not exist, and the connection was not allowed to create it.
        public static let missing = Code(.missing)
        /// The file is a SQLite database (or empty), but not one this module's migrations keep:
        /// it has no `schema_migrations` table.
        public static let foreign = Code(.foreign)

        /// `database`, `migration`, `missing` or `foreign`.
        public var description: String {
            switch kind {
            case .database: "database"
            case .migration: "migration"
            case .missing: "missing"
            case .foreign: "foreign"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The extended result code SQLite returned; nil for migration errors that did not come from SQLite.
    public var resultCode: ResultCode?
    /// SQLite's message (`sqlite3_errmsg`) or the migration runner's explanation.
    public var message: String
    /// The SQL being executed, without bound values.
    public var sql: String?
    /// The database file (or migration file) concerned.
    public var path: String?

    /// Makes an error from its parts.
    public init(code: Code, resultCode: ResultCode?, message: String, sql: String? = nil, path: String? = nil) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
        self.sql = sql
        self.path = path
    }

    /// Reads the extended result code and message from `connection` at once, before
    /// another call can overwrite them.
    init(connection: OpaquePointer?, resultCode: Int32, sql: String?, path: String) {
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? resultCode
        // sqlite3_errmsg describes the last call; trust its code only when it agrees with what the call returned.
        let code = extended & 0xFF == resultCode & 0xFF ? extended : resultCode
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(resultCode))
        self.init(code: .database, resultCode: ResultCode(rawValue: code), message: message, sql: sql, path: path)
    }

    /// One line for an operator, e.g.
    /// "SQLite error 2067 SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: t.x - while executing `INSERT …` (database /var/db.sqlite3)".
    public var description: String {
        var line: String
        if code == .missing || code == .foreign {
            return message
        } else if let resultCode {
            line = "SQLite error \(resultCode): \(message)"
            if let hint = Self.hint(for: resultCode) { line += " (\(hint))" }
        } else {
            line = "migration error: \(message)"
        }
        if let sql { line += " - while executing `\(sql)`" }
        if let path { line += code == .migration && resultCode == nil ? " (\(path))" : " (database \(path))" }
        return line
    }

    private static func hint(for code: ResultCode) -> String? {
        switch code.primaryResultCode {
        case .SQLITE_BUSY: "another connection held the lock for longer than the busy timeout"
        case .SQLITE_NOTADB: "the file is not a SQLite database"
        case .SQLITE_CORRUPT: "the database file is damaged"
        default: nil
        }
    }
}
