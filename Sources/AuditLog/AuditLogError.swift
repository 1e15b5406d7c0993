import PostgresStore
import SQLite

/// The one error type of the AuditLog module: a code to branch on, one line for an operator,
/// and, as swift-nio's `FileSystemError` keeps them, the error it came from (a ``SQLiteError``
/// with its result code and SQL, a `PostgresStoreError` with its SQLSTATE) and where in this
/// module it was thrown, for logs and tests.
public struct AuditLogError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case illegalTransition = "illegal transition"
            case notFound = "not found"
            case storage
            case migration
            case corrupt
            case leaseHeld = "lease held"
            case leaseLost = "lease lost"
            case invalidCursor = "invalid cursor"
            case invalidKey = "invalid key"
            case keyRequired = "key required"
            case missingStore = "missing store"
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// The state machine does not allow this move, or the row's status was not the expected one.
        public static let illegalTransition = Code(.illegalTransition)
        /// No such change or message.
        public static let notFound = Code(.notFound)
        /// The database failed (busy past the timeout, disk full, I/O…).
        public static let storage = Code(.storage)
        /// The migrations do not match the database (edited, missing, or the database is newer).
        public static let migration = Code(.migration)
        /// The file is not a database, or holds data this program cannot read.
        public static let corrupt = Code(.corrupt)
        /// Another holder has the run lease.
        public static let leaseHeld = Code(.leaseHeld)
        /// The writer's lease fence is stale: another holder took the run lease over, or it was released.
        public static let leaseLost = Code(.leaseLost)
        /// A paging cursor that this listing did not produce.
        public static let invalidCursor = Code(.invalidCursor)
        /// The audit chain key is too short, or is not the key the chain is keyed with.
        public static let invalidKey = Code(.invalidKey)
        /// The chain is keyed and this process holds no key: it may read, but not write or verify.
        public static let keyRequired = Code(.keyRequired)
        /// There is no store where one was to be opened (no such file, or a PostgreSQL database
        /// without the store's tables), and the open was not allowed to create one.
        public static let missingStore = Code(.missingStore)

        /// The code's name, e.g. "illegal transition".
        public var description: String {
            kind.rawValue
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// One line for an operator: what went wrong and what it concerns.
    public var description: String
    /// The error this one was made from (a ``SQLiteError``, a `PostgresStoreError`), if any.
    public var cause: (any Error)?
    /// Where it was thrown.
    public var location: SourceLocation

    /// A place in the source: file and line.
    public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
        /// `#fileID` of the throwing code.
        public var file: String
        /// `#line` of the throwing code.
        public var line: Int
        /// `Module/File.swift:line`.
        public var description: String { "\(file):\(line)" }
    }

    /// Makes an error.
    /// - Parameters:
    ///   - code: What kind of failure.
    ///   - description: One line for an operator.
    ///   - cause: The error it came from, if any.
    ///   - file: Where it is thrown (defaults to the caller's file).
    ///   - line: Where it is thrown (defaults to the caller's line).
    public init(
        code: Code, description: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.description = description
        self.cause = cause
        self.location = SourceLocation(file: file, line: line)
    }

    /// Classifies a database error: migration problems, damaged or foreign files, and the rest;
    /// the SQLite error (result code, message, SQL, file) is kept as the cause.
    init(_ error: SQLiteError, file: String = #fileID, line: Int = #line) {
        let code: Code
        var description = error.description
        if error.code == .migration {
            code = .migration
        } else if error.code == .missing {
            code = .missingStore
            description = "no audit store: \(error.description)"
        } else if error.code == .foreign {
            code = .corrupt
        } else if let resultCode = error.resultCode,
            ResultCode.SQLITE_NOTADB ~= resultCode || ResultCode.SQLITE_CORRUPT ~= resultCode
        {
            code = .corrupt
        } else {
            code = .storage
        }
        self.init(code: code, description: description, cause: error, file: file, line: line)
    }

    /// Classifies a PostgreSQL error: migration problems, and the rest (storage); the
    /// PostgreSQL error (with its SQLSTATE) is kept as the cause.
    init(_ error: PostgresStoreError, file: String = #fileID, line: Int = #line) {
        let code: Code =
            switch error.code {
            case .migration: .migration
            case .missing: .missingStore
            default: .storage
            }
        self.init(code: code, description: error.description, cause: error, file: file, line: line)
    }

    static func corruptRow(_ what: String) -> AuditLogError {
        AuditLogError(code: .corrupt, description: "the audit log holds data this program cannot read: \(what)")
    }
}
