import Foundation
import SQLite
import StreamModel
import TestSupport
import Testing

@testable import AuditLog

/// The two attacks that the plain SHA-256 chain let through, run against the executable:
/// with a key and a head kept elsewhere, `verify` exits 1 naming the missing head or the
/// first bad row.
@Suite("keyed chain tampering")
struct KeyedChainTamperingTests {
    /// A directory with an audit log of 9 unkeyed actions (``TamperingTests/makeAuditLog(at:)``),
    /// a key file, and 2 more actions appended with the key.
    struct Setup {
        let directory: URL
        let path: String
        let keyFile: String
        let environment: [String: String]

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyed-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("audit.sqlite3").path
            keyFile = directory.appendingPathComponent("audit.key").path
            let key = String(repeating: "5e", count: 32) + "\n"
            FileManager.default.createFile(atPath: keyFile, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600])
            environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]
            try await TamperingTests.makeAuditLog(at: path)
            let keyed = try AuditLog(path: path, chainKey: try AuditChainKey(text: key))
            let change = try await keyed.listChanges(ChangeFilter(), after: nil, limit: 1).rows[0].id
            for actor in ["carol", "dave"] {
                try await keyed.appendAction(
                    changeID: change, messageID: nil, ActionEntry(action: .conflict, actor: actor, outcome: "refused"),
                    at: Date())
            }
        }

        func verify(_ arguments: [String], key: Bool = true) async throws -> CommandRunner.Output {
            var environment = environment
            if key { environment["AUDIT_KEY_FILE"] = keyFile }
            return try await CommandRunner.run(
                ReprocessorExecutable.path, ["verify", "--db", path] + arguments, environment: environment)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test("verify --json reports ok, the head and where the chain is keyed; without the key it refuses")
    func keyedHead() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        let output = try await setup.verify(["--json"])
        #expect(output.status == 0, "\(output)")
        let report = try JSONValue(parsing: output.stdout)
        #expect(report["ok"] == .bool(true))
        #expect(report["keyed"] == .bool(true))
        #expect(report["keyedFrom"]?.intValue == 10, "an existing log is re-anchored where the key came in")
        #expect(report["head"]?["count"]?.intValue == 11)
        #expect(report["head"]?["hash"]?.stringValue?.count == 64)
        let text = try await setup.verify([])
        #expect(text.stdout.contains("keyed from action 10"), "\(text)")

        let keyless = try await setup.verify([], key: false)
        #expect(keyless.status == 2, "\(keyless)")
        #expect(keyless.stderr.contains("keyed from action 10") && keyless.stderr.contains("--audit-key-file"), "\(keyless)")
        #expect(!keyless.stderr.contains("5e5e5e"))
    }

    @Test("triggers dropped, tail rows deleted, sqlite_sequence reset: verify --expect-head exits 1 naming the missing head")
    func truncatedTail() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        let report = try JSONValue(parsing: try await setup.verify(["--json"]).stdout)
        let head = "11:\(report["head"]?["hash"]?.stringValue ?? "")"
        #expect(try await setup.verify(["--expect-head", head]).status == 0)

        try await AuditDatabase.withConnection(setup.path) { db in
            try db.execute(
                """
                DROP TRIGGER actions_no_delete;
                DELETE FROM actions WHERE id >= 10;
                UPDATE sqlite_sequence SET seq = 9 WHERE name = 'actions';
                """)
        }
        let broken = try await setup.verify(["--expect-head", head])
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stdout.contains("the expected head \(head) is missing"), "\(broken)")
        let bad = try await setup.verify(["--expect-head", "11:xyz"])
        #expect(bad.status == 2, "\(bad)")
    }

    @Test("a keyed row edited and every later hash recomputed without the key: verify exits 1 naming the row")
    func recomputedWithoutKey() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        try await AuditDatabase.withConnection(setup.path) { db in
            try db.execute("DROP TRIGGER actions_no_update; UPDATE actions SET actor = 'mallory' WHERE id = 10;")
            try KeyedChainAttacker.recomputeUnkeyed(from: 10, in: db)
        }
        let broken = try await setup.verify(["--json"])
        #expect(broken.status == 1, "\(broken)")
        let report = try JSONValue(parsing: broken.stdout)
        #expect(report["ok"] == .bool(false))
        #expect(report["firstBrokenActionId"]?.intValue == 10, "\(broken)")
    }
}

/// What someone who can write the file but has no key can do: recompute the chain's hashes
/// with plain SHA-256 from the stored columns, as ActionChain documents them.
enum KeyedChainAttacker {
    static func recomputeUnkeyed(from id: Int64, in db: Connection) throws {
        var previous = ActionChain.bytes(
            ofHex: try db.queryOne("SELECT hash FROM actions WHERE id = ?", [id - 1]) { $0.column(0) as String } ?? "")
        let rows = try db.query("SELECT \(Rows.actionColumns) FROM actions WHERE id >= ? ORDER BY id", [id]) { row in
            ((0..<9).map { row.value(at: $0) }, row.column(0) as Int64)
        }
        for (columns, rowID) in rows {
            let hash = ActionChain.hash(previous: previous ?? ActionChain.genesis, columns: columns)
            try db.run("UPDATE actions SET hash = ? WHERE id = ?", [hash, rowID])
            previous = ActionChain.bytes(ofHex: hash)
        }
    }
}
