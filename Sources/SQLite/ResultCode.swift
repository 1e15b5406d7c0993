internal import CSQLite

/// A SQLite result code: a primary code (`SQLITE_BUSY`, 5) or an extended one
/// (`SQLITE_CONSTRAINT_UNIQUE`, 2067, whose low byte is the primary code 19).
///
/// Matches errors in `catch` clauses: a primary pattern matches every extended code
/// of its family, an extended pattern matches only itself.
/// ```swift
/// do { try connection.run(sql) } catch ResultCode.SQLITE_CONSTRAINT { … }
/// ```
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code as SQLite returns it.
    public let rawValue: Int32

    /// Wraps a numeric result code.
    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The primary code (the low byte), e.g. `SQLITE_CONSTRAINT` for `SQLITE_CONSTRAINT_UNIQUE`.
    public var primaryResultCode: ResultCode {
        ResultCode(rawValue: rawValue & 0xFF)
    }

    /// Whether this is a primary code rather than an extended one.
    public var isPrimary: Bool {
        rawValue & 0xFF == rawValue
    }

    /// The symbolic name when known (`SQLITE_BUSY`), otherwise SQLite's English text for the code.
    public var name: String {
        Self.names[rawValue] ?? String(cString: sqlite3_errstr(rawValue))
    }

    /// `2067 SQLITE_CONSTRAINT_UNIQUE`.
    public var description: String {
        "\(rawValue) \(name)"
    }

    /// Matches `code` against a pattern: primary patterns match their whole family.
    public static func ~= (pattern: ResultCode, code: ResultCode) -> Bool {
        pattern.isPrimary ? pattern == code.primaryResultCode : pattern == code
    }

    /// Matches a ``SQLiteError`` that carries a result code matching `pattern`.
    public static func ~= (pattern: ResultCode, error: SQLiteError) -> Bool {
        guard let code = error.resultCode else { return false }
        return pattern ~= code
    }

    /// Matches any error that is a ``SQLiteError`` carrying a result code matching `pattern`.
    public static func ~= (pattern: ResultCode, error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return pattern ~= error
    }

    // Primary result codes.
    /// Successful result.
    public static let SQLITE_OK = ResultCode(rawValue: 0)
    /// Generic error.
    public static let SQLITE_ERROR = ResultCode(rawValue: 1)
    /// Internal logic error in SQLite.
    public static let SQLITE_INTERNAL = ResultCode(rawValue: 2)
    /// Access permission denied.
    public static let SQLITE_PERM = ResultCode(rawValue: 3)
    /// Callback routine requested an abort.
    public static let SQLITE_ABORT = ResultCode(rawValue: 4)
    /// The database file is locked by another connection (the busy timeout ran out).
    public static let SQLITE_BUSY = ResultCode(rawValue: 5)
    /// A table in the database is locked by this connection.
    public static let SQLITE_LOCKED = ResultCode(rawValue: 6)
    /// Out of memory.
    public static let SQLITE_NOMEM = ResultCode(rawValue: 7)
    /// Attempt to write a read-only database.
    public static let SQLITE_READONLY = ResultCode(rawValue: 8)
    /// Operation interrupted.
    public static let SQLITE_INTERRUPT = ResultCode(rawValue: 9)
    /// Disk I/O error.
    public static let SQLITE_IOERR = ResultCode(rawValue: 10)
    /// The database disk image is malformed.
    public static let SQLITE_CORRUPT = ResultCode(rawValue: 11)
    /// Insertion failed because the database is full.
    public static let SQLITE_FULL = ResultCode(rawValue: 13)
    /// Unable to open the database file.
    public static let SQLITE_CANTOPEN = ResultCode(rawValue: 14)
    /// The database schema changed.
    public static let SQLITE_SCHEMA = ResultCode(rawValue: 17)
    /// String or blob exceeds the size limit.
    public static let SQLITE_TOOBIG = ResultCode(rawValue: 18)
    /// A constraint was violated.
    public static let SQLITE_CONSTRAINT = ResultCode(rawValue: 19)
    /// Data type mismatch.
    public static let SQLITE_MISMATCH = ResultCode(rawValue: 20)
    /// Library used incorrectly.
    public static let SQLITE_MISUSE = ResultCode(rawValue: 21)
    /// Bind or column index out of range.
    public static let SQLITE_RANGE = ResultCode(rawValue: 25)
    /// The file is not a database.
    public static let SQLITE_NOTADB = ResultCode(rawValue: 26)
    /// `sqlite3_step` has another row ready.
    public static let SQLITE_ROW = ResultCode(rawValue: 100)
    /// `sqlite3_step` has finished executing.
    public static let SQLITE_DONE = ResultCode(rawValue: 101)

    // Extended result codes this project meets.
    /// A busy wait ran out while a WAL snapshot could not be upgraded.
    public static let SQLITE_BUSY_SNAPSHOT = ResultCode(rawValue: 517)
    /// A CHECK constraint failed.
    public static let SQLITE_CONSTRAINT_CHECK = ResultCode(rawValue: 275)
    /// A foreign key constraint failed.
    public static let SQLITE_CONSTRAINT_FOREIGNKEY = ResultCode(rawValue: 787)
    /// A NOT NULL constraint failed.
    public static let SQLITE_CONSTRAINT_NOTNULL = ResultCode(rawValue: 1299)
    /// A PRIMARY KEY constraint failed.
    public static let SQLITE_CONSTRAINT_PRIMARYKEY = ResultCode(rawValue: 1555)
    /// A `RAISE` in a trigger.
    public static let SQLITE_CONSTRAINT_TRIGGER = ResultCode(rawValue: 1811)
    /// A UNIQUE constraint failed.
    public static let SQLITE_CONSTRAINT_UNIQUE = ResultCode(rawValue: 2067)
    /// A rowid was not unique.
    public static let SQLITE_CONSTRAINT_ROWID = ResultCode(rawValue: 2579)

    private static let names: [Int32: String] = [
        0: "SQLITE_OK", 1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT",
        5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT",
        10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 17: "SQLITE_SCHEMA",
        18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 25: "SQLITE_RANGE",
        26: "SQLITE_NOTADB", 100: "SQLITE_ROW", 101: "SQLITE_DONE",
        517: "SQLITE_BUSY_SNAPSHOT", 773: "SQLITE_BUSY_TIMEOUT", 275: "SQLITE_CONSTRAINT_CHECK",
        787: "SQLITE_CONSTRAINT_FOREIGNKEY", 1299: "SQLITE_CONSTRAINT_NOTNULL", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY",
        1811: "SQLITE_CONSTRAINT_TRIGGER", 2067: "SQLITE_CONSTRAINT_UNIQUE", 2579: "SQLITE_CONSTRAINT_ROWID",
        266: "SQLITE_IOERR_READ", 522: "SQLITE_IOERR_SHORT_READ", 778: "SQLITE_IOERR_WRITE",
        1034: "SQLITE_IOERR_FSYNC", 3338: "SQLITE_IOERR_ACCESS", 267: "SQLITE_CORRUPT_VTAB",
        779: "SQLITE_CORRUPT_INDEX", 1038: "SQLITE_CANTOPEN_CONVPATH", 264: "SQLITE_READONLY_RECOVERY",
        520: "SQLITE_READONLY_CANTLOCK", 776: "SQLITE_READONLY_ROLLBACK", 1032: "SQLITE_READONLY_DBMOVED",
    ]
}
