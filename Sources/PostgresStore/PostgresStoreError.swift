import PostgresNIO

/// A failure of the PostgreSQL store: a bad URL, a server that cannot be reached or refuses
/// us, a failed statement, or migrations that do not match the database.
///
/// Never carries a password or a bound value: PostgreSQL's own message and SQLSTATE are kept,
/// not the statement's parameters.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Hashable, Sendable {
            case invalidURL = "invalid url"
            case connection
            case statement
            case migration
            case missing
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// The location is not a usable `postgres://` URL.
        public static let invalidURL = Code(.invalidURL)
        /// The server could not be reached, refused the login or TLS, or dropped the connection.
        public static let connection = Code(.connection)
        /// The server refused a statement.
        public static let statement = Code(.statement)
        /// The migrations do not match the database's history, or one of them failed.
        public static let migration = Code(.migration)
        /// The database holds no store (no `schema_migrations` table) and the open may not create one.
        public static let missing = Code(.missing)

        /// A short name without dynamic values, fit for a metric label.
        public var description: String { kind.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, in one line, naming the file or setting at fault.
    public let message: String
    /// PostgreSQL's SQLSTATE when the server reported the failure, such as `42P01`.
    public let sqlState: String?

    /// Makes an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: One line naming what is at fault.
    ///   - sqlState: The server's SQLSTATE, when it reported the failure.
    public init(code: Code, message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// Wraps an error of postgres-nio, keeping the server's message and SQLSTATE.
    /// - Parameters:
    ///   - code: The kind of failure to report.
    ///   - context: What was being done, e.g. "migration 0003_batches_and_lease.sql failed".
    ///   - error: The error postgres-nio threw.
    init(code: Code, context: String, cause error: any Error) {
        if let error = error as? PSQLError {
            let serverMessage = error.serverInfo?[.message]
            let state = error.serverInfo?[.sqlState]
            let detail = serverMessage ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            // A server that answered with an error is a statement failure unless it refused the login.
            let isLogin = state.map { $0.hasPrefix("28") || $0.hasPrefix("08") } ?? true
            self.init(
                code: code == .statement && isLogin ? .connection : code, message: "\(context): \(detail)", sqlState: state)
        } else {
            self.init(code: code, message: "\(context): \(error)")
        }
    }

    /// `PostgreSQL <code>: <message> (SQLSTATE …)`, the one line the CLI prints.
    public var description: String {
        "PostgreSQL \(code): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }
}
