import Foundation
import TestSupport
import Testing

@Suite("The throwaway PostgreSQL server of the tests")
struct PostgresServerTests {
    @Test("starts, answers over TCP with its password, refuses a wrong one, and stops leaving nothing behind")
    func startsAnswersStops() async throws {
        let server = try await PostgresServer.start()
        #expect(FileManager.default.fileExists(atPath: server.folder.appendingPathComponent("data/PG_VERSION").path))
        let answer = try await server.psql("SELECT current_user || ' ' || 6 * 7")
        #expect(answer == "dlq 42")
        #expect(try await server.psql("SHOW port") == String(server.port))

        let wrongPassword = try await CommandRunner.run(
            server.binaries.appendingPathComponent("psql").path,
            ["-h", "127.0.0.1", "-p", String(server.port), "-U", server.user, "-d", "postgres", "-c", "SELECT 1"],
            environment: ["PGPASSWORD": "not-the-password", "PATH": "/usr/bin:/bin"])
        #expect(wrongPassword.status != 0)
        #expect(wrongPassword.stderr.contains("password authentication failed"))

        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.folder.path))
        await #expect(throws: PostgresServer.Failure.self) { try await server.psql("SELECT 1") }
    }

    @Test("two servers run side by side on their own ports and folders")
    func twoServers() async throws {
        async let first = PostgresServer.start()
        async let second = PostgresServer.start()
        let (a, b) = try await (first, second)
        defer {
            a.stop()
            b.stop()
        }
        #expect(a.port != b.port)
        #expect(a.folder != b.folder)
        try await a.psql("CREATE TABLE only_in_a (id int)")
        #expect(try await b.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'") == "0")
    }
}
