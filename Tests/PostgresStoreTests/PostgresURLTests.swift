import PostgresStore
import TestSupport
import Testing

@Suite("postgres:// URLs")
struct PostgresURLTests {
    @Test("reads every part, percent-decoding the password")
    func everyPart() throws {
        let url = try PostgresURL("postgres://audit:p%40ss%3Aword@db.example.com:6543/dlq?sslmode=verify-full", environment: [:])
        #expect(url.host == "db.example.com")
        #expect(url.port == 6543)
        #expect(url.username == "audit")
        #expect(url.password == "p@ss:word")
        #expect(url.database == "dlq")
        #expect(url.sslMode == .verifyFull)
        #expect(url.description == "postgres://audit@db.example.com:6543/dlq?sslmode=verify-full")
    }

    @Test("defaults as libpq: port 5432, the user's database, sslmode prefer; PGPASSWORD when the URL has none")
    func defaults() throws {
        let url = try PostgresURL("postgresql://audit@localhost", environment: ["PGPASSWORD": "from-env"])
        #expect(url.port == 5432)
        #expect(url.database == "audit")
        #expect(url.sslMode == .prefer)
        #expect(url.password == "from-env")
        #expect(
            try PostgresURL("postgres://audit:in-url@localhost/x", environment: ["PGPASSWORD": "from-env"]).password == "in-url")
        #expect(try PostgresURL("postgres://audit@localhost/x", environment: [:]).password == nil)
    }

    @Test(
        "refuses what it cannot use, naming it and never the password",
        arguments: [
            ("mysql://a:secret@h/d", "must start with postgres://"),
            ("postgres://h/d", "has no user"),
            ("postgres://a:secret@h/d?sslmode=verify", "has sslmode=verify; use one of disable, allow, prefer"),
            ("postgres://a:secret@h/d?sslmod=require", "has the parameter sslmod, which is not supported"),
            ("postgres://a:secret@h/d/e", "contains a /"),
        ])
    func refuses(text: String, reason: String) {
        let error = #expect(throws: PostgresStoreError.self) { try PostgresURL(text, environment: [:]) }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.description.contains("secret") == false)
    }

    @Test("an sslrootcert that cannot be read fails the open before connecting, naming the file")
    func unreadableRootCertificate() async throws {
        let url = try PostgresURL(
            "postgres://audit@127.0.0.1:1/dlq?sslmode=verify-full&sslrootcert=/nonexistent/rds-bundle.pem", environment: [:])
        #expect(url.sslRootCertificate == "/nonexistent/rds-bundle.pem")
        let error = await #expect(throws: PostgresStoreError.self) {
            try await PostgresSession.open(url, migrations: [], checksum: { $0 })
        }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains("/nonexistent/rds-bundle.pem") == true)
    }

    @Test("sslmode against a server without TLS: prefer connects, require is refused")
    func sslModes() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let base = "postgres://\(server.user):\(server.password)@127.0.0.1:\(server.port)/postgres"
        let preferred = try await PostgresSession.open(
            PostgresURL(base + "?sslmode=prefer"), migrations: [], checksum: { $0 })
        #expect(try preferred.appliedMigrations().isEmpty)
        preferred.close()
        let error = await #expect(throws: PostgresStoreError.self) {
            try await PostgresSession.open(PostgresURL(base + "?sslmode=require"), migrations: [], checksum: { $0 })
        }
        #expect(error?.code == .connection)
    }

    @Test("a wrong password is a connection error that does not show the password")
    func wrongPassword() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = try PostgresURL(
            "postgres://\(server.user):wrong-secret@127.0.0.1:\(server.port)/postgres?sslmode=disable", environment: [:])
        let error = await #expect(throws: PostgresStoreError.self) {
            try await PostgresSession.open(url, migrations: [], checksum: { $0 })
        }
        #expect(error?.code == .connection)
        #expect(error?.sqlState == "28P01", "\(String(describing: error))")
        #expect(error?.description.contains("wrong-secret") == false)
    }
}
