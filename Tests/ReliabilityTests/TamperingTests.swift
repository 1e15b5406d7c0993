import AuditLog
import Foundation
import SQLite
import StreamModel
import TestSupport
import Testing

/// Edits of the audit log made behind the program's back, with raw SQL.
@Suite("tampering")
struct TamperingTests {
    /// A raw-SQL edit of the audit trail that a tamperer could make.
    struct Tamper: Sendable, CustomStringConvertible {
        var description: String
        /// The action `verify` must name.
        var brokenAction: Int64
        var sql: String
        /// The first action whose link is broken: the one after a deleted row, else the edited one.
        var firstBrokenLink: Int64? = nil

        var expectedFirstBroken: Int64 { firstBrokenLink ?? brokenAction }
    }

    /// The edits, the same on both stores.
    static let tampers: [Tamper] = [
        Tamper(
            description: "reason rewritten", brokenAction: 4, sql: "UPDATE actions SET reason = 'nothing to see' WHERE id = 4"
        ),
        Tamper(description: "actor rewritten", brokenAction: 7, sql: "UPDATE actions SET actor = 'mallory' WHERE id = 7"),
        Tamper(description: "time moved", brokenAction: 2, sql: "UPDATE actions SET at = at - 86400000 WHERE id = 2"),
        Tamper(
            description: "outcome rewritten on the last row", brokenAction: 9,
            sql: "UPDATE actions SET outcome = 'applied' WHERE id = 9"),
        Tamper(
            description: "hash replaced", brokenAction: 5,
            sql: "UPDATE actions SET hash = '\(String(repeating: "ab", count: 32))' WHERE id = 5"),
        Tamper(
            description: "row deleted from the middle", brokenAction: 3, sql: "DELETE FROM actions WHERE id = 3",
            firstBrokenLink: 4),
        Tamper(description: "last row deleted", brokenAction: 9, sql: "DELETE FROM actions WHERE id = 9"),
    ]

    /// Proves that the append-only guard cannot be bypassed silently: with the triggers dropped,
    /// any raw-SQL edit of an action (a column changed, its hash replaced, a row deleted from the
    /// middle or the end) makes `dlq-reprocessor verify` exit 1 and name the first broken action,
    /// in text and in JSON, while the untouched log verifies with exit 0.
    @Test("an audit row edited with raw SQL: verify exits 1 and names the row", arguments: tampers)
    func tamperedRow(_ tamper: Tamper) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tamper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("audit.sqlite3").path
        try await Self.makeAuditLog(at: path)
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory.path]

        let intact = try await CommandRunner.run(ReprocessorExecutable.path, ["verify", "--db", path], environment: environment)
        #expect(intact.status == 0, "\(intact)")
        #expect(intact.stdout.contains("9 actions"), "\(intact)")

        let refused = try await AuditDatabase.withConnection(path) { db -> Bool in
            do {
                _ = try db.run("UPDATE actions SET reason = 'x' WHERE id = 1")
                return false
            } catch {
                return true
            }
        }
        #expect(refused, "the append-only trigger refuses an UPDATE")

        try await AuditDatabase.withConnection(path) { db in
            try db.execute("DROP TRIGGER actions_no_update; DROP TRIGGER actions_no_delete;")
            _ = try db.run(tamper.sql)
        }
        let broken = try await CommandRunner.run(ReprocessorExecutable.path, ["verify", "--db", path], environment: environment)
        #expect(!broken.killedBySignal && broken.status == 1, "\(tamper): \(broken)")
        #expect(broken.stdout.contains("action \(tamper.brokenAction)"), "\(tamper): \(broken)")
        let json = try await CommandRunner.run(
            ReprocessorExecutable.path, ["verify", "--db", path, "--json"], environment: environment)
        #expect(json.status == 1)
        let report = try JSONValue(parsing: json.stdout)
        #expect(report["ok"] == .bool(false))
        #expect(report["firstBrokenActionId"]?.intValue == Int(tamper.expectedFirstBroken), "\(tamper): \(json.stdout)")
    }

    /// An audit log with nine actions: two changes ingested, one quarantined message, and
    /// changes applied, failed, retried and skipped.
    static func makeAuditLog(at path: String) async throws {
        let log = try await AuditLog(location: path)
        let now = Date()
        let keys: Item = ["PK": .string("ARTIST#1"), "SK": .string("METADATA")]
        let changes = (1...2).map { index in
            NewChange(
                streamARN: "arn:aws:dynamodb:eu-west-2:123456789012:table/t/stream/1",
                sequenceNumber: SequenceNumber("10\(index)")!, eventID: "event-\(index)", eventName: .modify, keys: keys,
                documentID: "1", newImage: keys)
        }
        let outcomes = try await log.ingest(
            [
                NewMessage(
                    messageID: "m1", body: "{}", format: .forwardedRecords, receivedAt: now, disposition: .changes(changes)),
                NewMessage(
                    messageID: "m2", body: "garbage", format: .unrecognized, receivedAt: now,
                    disposition: .quarantined(reason: "not JSON")),
            ], at: now)
        let ids = outcomes[0].storedChangeIDs
        try await log.transition(ids[0], to: .applied, action: ActionEntry(action: .applied, outcome: "indexed"), at: now)
        try await log.transition(ids[1], to: .failed, action: ActionEntry(action: .failed, outcome: "503"), at: now)
        try await log.transition(
            ids[1], to: .pending, action: ActionEntry(action: .retried, actor: "alice", outcome: "queued"), at: now)
        try await log.transition(ids[1], to: .failed, action: ActionEntry(action: .failed, outcome: "503"), at: now)
        try await log.transition(
            ids[1], to: .skipped, action: ActionEntry(action: .skipped, actor: "alice", reason: "gone", outcome: "skipped"),
            at: now)
        try await log.appendAction(
            changeID: ids[0], messageID: nil, ActionEntry(action: .conflict, actor: "bob", outcome: "refused"), at: now)
        let report = try await log.verify()
        guard report.isIntact, report.actionsChecked == 9 else {
            throw ReliabilityError("the fixture log has \(report.actionsChecked) actions, intact: \(report.isIntact)")
        }
    }
}
