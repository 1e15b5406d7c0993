import Foundation

/// Where a PostgreSQL store is: `postgres://user:password@host:port/database?sslmode=…`
/// (`postgresql://` too), read as libpq reads it.
///
/// The password comes from the URL or, when the URL has none, from `PGPASSWORD`. The port
/// defaults to 5432 and the database to the user's name. Parameters: `sslmode` (`disable`,
/// `allow`, `prefer` (default), `require`, `verify-ca`, `verify-full`) and `sslrootcert`
/// (a PEM file of trusted roots, such as the RDS bundle); any other parameter is refused, so
/// a misspelt `sslmode` never silently weakens TLS.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// How TLS is used, as libpq's `sslmode`.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP only.
        case disable
        /// libpq tries plain first; postgres-nio cannot, so this is ``prefer``.
        case allow
        /// TLS when the server offers it, without verifying its certificate; plain otherwise.
        case prefer
        /// TLS or fail, without verifying the certificate.
        case require
        /// TLS or fail; the certificate must chain to a trusted root (any host name).
        case verifyCA = "verify-ca"
        /// TLS or fail; the certificate must chain to a trusted root and name the host.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to log in as.
    public var username: String
    /// The password, from the URL or `PGPASSWORD`; nil when neither has one.
    public var password: String?
    /// The database.
    public var database: String
    /// How TLS is used.
    public var sslMode: SSLMode
    /// A PEM file of the roots to trust for `verify-ca` and `verify-full` (the system's otherwise).
    public var sslRootCertificate: String?

    /// Whether `location` (a `--db` or `AUDIT_DB` value) names a PostgreSQL database rather
    /// than a SQLite file: it starts with `postgres://` or `postgresql://`.
    public static func isPostgresLocation(_ location: String) -> Bool {
        let lowered = location.prefix(13).lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    /// Reads a `postgres://` URL.
    /// - Parameters:
    ///   - text: The URL, e.g. from `--db` or `AUDIT_DB`.
    ///   - environment: Where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: ``PostgresStoreError`` `.invalidURL` naming what is wrong (never the password).
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(PostgresStoreError)
    {
        func invalid(_ reason: String) -> PostgresStoreError {
            PostgresStoreError(code: .invalidURL, message: "the database URL \(reason)")
        }
        guard let components = URLComponents(string: text) else { throw invalid("cannot be parsed as a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("must start with postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host (postgres://user@host/database)") }
        guard let username = components.user, !username.isEmpty else {
            throw invalid("has no user (postgres://user@host/database)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("has port \(port), outside 1-65535") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.contains("/") else { throw invalid("names the database \"\(path)\", which contains a /") }

        var sslMode = SSLMode.prefer
        var sslRootCertificate: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = SSLMode(rawValue: value) else {
                    throw invalid(
                        "has sslmode=\(item.value ?? ""); use one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { throw invalid("has an empty sslrootcert") }
                sslRootCertificate = value
            default:
                throw invalid("has the parameter \(item.name), which is not supported (sslmode and sslrootcert are)")
            }
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password ?? environment["PGPASSWORD"]
        self.database = path.isEmpty ? username : path
        self.sslMode = sslMode
        self.sslRootCertificate = sslRootCertificate
    }

    /// The URL without its password, for logs and errors.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }
}
