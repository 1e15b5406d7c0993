import AuditLog
import Foundation
import SQLite
import StreamModel
import TestSupport
import Testing

/// Rows of the audit tables deleted or edited behind the program's back (foreign keys and the
/// append-only triggers off), with the keyed chain on and a head kept elsewhere: `verify
/// --expect-head` exits 1 and names the row, on both stores. Before verify checked completeness, a
/// deleted change (with its images), a deleted message or a batch's status edited all passed.
@Suite("tampering: completeness")
struct CompletenessTamperingTests {
    /// One edit of one table.
    struct Tamper: Sendable, CustomStringConvertible {
        var description: String
        /// The table edited.
        var table: String
        var sql: String
        /// The row verify must name in `rowProblems` (nil: an action, named as the first broken one).
        var row: String?
    }

    /// Every audit table, a row deleted and a row edited. The fixture (``makeLog(at:keyFile:)``):
    /// change 1 pending and change 2 applied (both with images, message m1), message m2 quarantined,
    /// batch 1 (message m3) expired.
    static let tampers: [Tamper] = [
        Tamper(
            description: "a pending change and its images deleted", table: "changes",
            sql: "DELETE FROM change_images WHERE change_id = 1; DELETE FROM changes WHERE id = 1", row: "change 1"),
        Tamper(
            description: "an applied change set back to pending", table: "changes",
            sql: "UPDATE changes SET status = 'pending' WHERE id = 2", row: "change 2"),
        Tamper(
            description: "a change's images deleted", table: "change_images",
            sql: "DELETE FROM change_images WHERE change_id = 2",
            row: "change 2"),
        Tamper(
            description: "a change's new image edited", table: "change_images",
            sql: #"UPDATE change_images SET new_image_json = '{"PK":{"S":"ARTIST#9"}}' WHERE change_id = 2"#,
            row: "change 2"),
        Tamper(
            description: "a quarantined message deleted", table: "messages", sql: "DELETE FROM messages WHERE message_id = 'm2'",
            row: "message m2"),
        Tamper(
            description: "a message's body edited", table: "messages",
            sql: "UPDATE messages SET body = 'edited' WHERE message_id = 'm2'", row: "message m2"),
        Tamper(
            description: "an expired batch deleted", table: "batches", sql: "DELETE FROM batches WHERE id = 1", row: "batch 1"),
        Tamper(
            description: "an expired batch set to read", table: "batches", sql: "UPDATE batches SET status = 'read' WHERE id = 1",
            row: "batch 1"),
        Tamper(description: "an action deleted", table: "actions", sql: "DELETE FROM actions WHERE id = 3", row: nil),
        Tamper(
            description: "an action's outcome edited", table: "actions", sql: "UPDATE actions SET outcome = 'x' WHERE id = 4",
            row: nil),
    ]

    static let key = String(repeating: "7a", count: 32) + "\n"

    @Test("SQLite: a row of each audit table deleted or edited: verify --expect-head exits 1 naming it", arguments: tampers)
    func sqlite(_ tamper: Tamper) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.sqlite3").path
        let keyFile = try Self.writeKey(in: directory)
        try await Self.makeLog(at: path, keyFile: keyFile)
        try await Self.check(tamper, location: path, keyFile: keyFile, home: directory.path) {
            try await AuditDatabase.withConnection(path) { db in
                try db.execute(
                    """
                    PRAGMA foreign_keys = OFF;
                    DROP TRIGGER actions_no_update; DROP TRIGGER actions_no_delete;
                    \(tamper.sql);
                    """)
            }
        }
    }

    /// One case at a time: the test server's connections are shared with every other PostgreSQL test.
    @Test(
        "PostgreSQL: a row of each audit table deleted or edited: verify --expect-head exits 1 naming it", .serialized,
        arguments: tampers)
    func postgres(_ tamper: Tamper) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await SharedPostgresServer.shared()
        let url = try await SharedPostgresServer.newDatabase()
        let database = try #require(URL(string: url)?.path.split(separator: "/").last.map(String.init))
        let keyFile = try Self.writeKey(in: directory)
        try await Self.makeLog(at: url, keyFile: keyFile)
        try await Self.check(tamper, location: url, keyFile: keyFile, home: directory.path) {
            // Replica mode fires no trigger: neither the foreign keys' nor the append-only ones.
            _ = try await server.psql("SET session_replication_role = replica; \(tamper.sql);", database: database)
        }
    }

    /// Verifies the intact log (ok), keeps its head, tampers, and verifies again against the head.
    static func check(
        _ tamper: Tamper, location: String, keyFile: String, home: String, tampering: () async throws -> Void
    ) async throws {
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home, "AUDIT_KEY_FILE": keyFile,
        ]
        func verify(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["verify", "--db", location] + arguments, environment: environment)
        }
        let intact = try await verify(["--json"])
        #expect(intact.status == 0, "\(intact)")
        let before = try JSONValue(parsing: intact.stdout)
        #expect(before["rowProblems"] == .array([]), "\(intact)")
        let head = "\(before["head"]?["count"]?.intValue ?? 0):\(before["head"]?["hash"]?.stringValue ?? "")"
        #expect(try await verify(["--expect-head", head]).status == 0)

        try await tampering()

        let broken = try await verify(["--expect-head", head, "--json"])
        #expect(!broken.killedBySignal && broken.status == 1, "\(tamper): \(broken)")
        let report = try JSONValue(parsing: broken.stdout)
        #expect(report["ok"] == .bool(false), "\(tamper): \(broken.stdout)")
        if let row = tamper.row {
            let named = report["rowProblems"]?.arrayValue?.compactMap { $0["row"]?.stringValue } ?? []
            #expect(named.contains(row), "\(tamper): \(broken.stdout)")
            let text = try await verify(["--expect-head", head])
            #expect(text.status == 1 && text.stdout.contains("BROKEN: \(row)"), "\(tamper): \(text)")
        } else {
            #expect(report["firstBrokenActionId"]?.intValue != nil, "\(tamper): \(broken.stdout)")
        }
    }

    static func writeKey(in directory: URL) throws -> String {
        let keyFile = directory.appendingPathComponent("audit.key").path
        guard FileManager.default.createFile(atPath: keyFile, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600])
        else { throw ReliabilityError("cannot write \(keyFile)") }
        return keyFile
    }

    /// Change 1 pending, change 2 applied (message m1, both with images), message m2 quarantined,
    /// batch 1 (message m3) expired; keyed from the first action.
    static func makeLog(at location: String, keyFile: String) async throws {
        let log = try await AuditLog(location: location, chainKey: try AuditChainKey(text: key))
        let now = Date()
        let streamARN = "arn:aws:dynamodb:eu-west-2:123456789012:table/t/stream/1"
        let changes = (1...2).map { index in
            let keys: Item = ["PK": .string("ARTIST#\(index)"), "SK": .string("METADATA")]
            return NewChange(
                streamARN: streamARN, sequenceNumber: SequenceNumber("10\(index)")!, eventID: "event-\(index)",
                eventName: .modify, keys: keys, documentID: String(index), oldImage: keys, newImage: keys)
        }
        let shard = "shardId-00000001573689847184-864758bb"
        let info = JSONValue.object([
            "shardId": .string(shard), "startSequenceNumber": .string("200"), "endSequenceNumber": .string("209"),
            "batchSize": .number("10"), "streamArn": .string(streamARN),
        ])
        let outcomes = try await log.ingest(
            [
                NewMessage(
                    messageID: "m1", body: "{}", format: .forwardedRecords, receivedAt: now, disposition: .changes(changes)),
                NewMessage(
                    messageID: "m2", body: "garbage", format: .unrecognized, receivedAt: now,
                    disposition: .quarantined(reason: "not JSON")),
                NewMessage(
                    messageID: "m3", body: JSONValue.object(["DDBStreamBatchInfo": info]).serialized, format: .failedBatch,
                    receivedAt: now,
                    disposition: .batch(
                        NewBatch(
                            streamARN: streamARN, shardID: shard, startSequenceNumber: SequenceNumber("200")!,
                            endSequenceNumber: SequenceNumber("209")!, batchInfo: info, lastRecordAt: now))),
            ], at: now)
        guard outcomes[0].storedChangeIDs == [1, 2], let batch = outcomes[2].batchID, batch == 1 else {
            throw ReliabilityError("the fixture's ids are not the ones the tampers name: \(outcomes)")
        }
        try await log.transition(2, to: .applied, action: ActionEntry(action: .applied, outcome: "indexed"), at: now)
        try await log.expireBatch(batch, reason: "trimmed from the stream", at: now)
        let report = try await log.verify()
        guard report.isIntact, report.rowsChecked == 6 else {
            throw ReliabilityError("the fixture log does not verify: \(report)")
        }
    }
}
