import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

/// The same raw-SQL edits of the audit trail as ``TamperingTests``, on a PostgreSQL store: its
/// append-only triggers refuse them, and with the triggers disabled `verify` still names the
/// first broken action.
@Suite("tampering, PostgreSQL")
struct PostgresTamperingTests {
    @Test("an audit row edited with raw SQL on PostgreSQL: verify exits 1 and names the row", arguments: TamperingTests.tampers)
    func tamperedRow(_ tamper: TamperingTests.Tamper) async throws {
        let server = try await SharedPostgresServer.shared()
        let url = try await SharedPostgresServer.newDatabase()
        let database = try #require(URL(string: url)?.path.split(separator: "/").last.map(String.init))
        try await TamperingTests.makeAuditLog(at: url)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

        let intact = try await CommandRunner.run(ReprocessorExecutable.path, ["verify", "--db", url], environment: environment)
        #expect(intact.status == 0, "\(intact)")
        #expect(intact.stdout.contains("9 actions"), "\(intact)")
        #expect(!intact.stdout.contains(server.password), "verify printed the password")

        await #expect(throws: PostgresServer.Failure.self, "the append-only trigger refuses an UPDATE") {
            try await server.psql("UPDATE actions SET reason = 'x' WHERE id = 1", database: database)
        }
        await #expect(throws: PostgresServer.Failure.self, "the append-only trigger refuses a TRUNCATE") {
            try await server.psql("TRUNCATE actions CASCADE", database: database)
        }

        try await server.psql("ALTER TABLE actions DISABLE TRIGGER USER; \(tamper.sql)", database: database)
        let broken = try await CommandRunner.run(ReprocessorExecutable.path, ["verify", "--db", url], environment: environment)
        #expect(!broken.killedBySignal && broken.status == 1, "\(tamper): \(broken)")
        #expect(broken.stdout.contains("action \(tamper.brokenAction)"), "\(tamper): \(broken)")
        let json = try await CommandRunner.run(
            ReprocessorExecutable.path, ["verify", "--db", url, "--json"], environment: environment)
        #expect(json.status == 1)
        let report = try JSONValue(parsing: json.stdout)
        #expect(report["ok"] == .bool(false))
        #expect(report["firstBrokenActionId"]?.intValue == Int(tamper.expectedFirstBroken), "\(tamper): \(json.stdout)")
    }

    @Test("rows removed from the end and chain_head wound back with them: the head kept elsewhere catches it")
    func truncatedWithHeadReset() async throws {
        let server = try await SharedPostgresServer.shared()
        let url = try await SharedPostgresServer.newDatabase()
        let database = try #require(URL(string: url)?.path.split(separator: "/").last.map(String.init))
        try await TamperingTests.makeAuditLog(at: url)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let head = try JSONValue(
            parsing: try await CommandRunner.run(
                ReprocessorExecutable.path, ["verify", "--db", url, "--json"], environment: environment
            ).stdout)["head"]
        let kept = "\(head?["count"]?.intValue ?? 0):\(head?["hash"]?.stringValue ?? "")"

        try await server.psql(
            "ALTER TABLE actions DISABLE TRIGGER USER; DELETE FROM actions WHERE id > 7; UPDATE chain_head SET last_action_id = 7",
            database: database)
        let caught = try await CommandRunner.run(
            ReprocessorExecutable.path, ["verify", "--db", url, "--expect-head", kept], environment: environment)
        #expect(caught.status == 1, "\(caught)")
        #expect(caught.stdout.contains("BROKEN"), "\(caught)")
    }
}
