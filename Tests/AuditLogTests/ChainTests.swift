import AuditLog
import Foundation
import SQLite
import Testing

@Suite("Hash chain")
struct ChainTests {
    /// A log with 2 messages, 3 changes and 5 actions.
    static func populated() async throws -> TestLog {
        let test = try await TestLog()
        let ids = try await test.log.ingest([Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)])], at: Fixture.t0)[0]
            .storedChangeIDs
        try await test.log.transition(
            ids[0], to: .applied, action: ActionEntry(action: .applied, outcome: "indexed", response: "{}"), at: Fixture.t0)
        try await test.log.transition(
            ids[1], to: .failed, action: ActionEntry(action: .failed, reason: "ünïcødé 🎸", outcome: "429"),
            at: Fixture.t0)
        _ = try await Fixture.ingestOne(test.log, 3)
        return test
    }

    @Test("an untouched log verifies: every link holds and the file is sound")
    func intact() async throws {
        let test = try await Self.populated()
        let report = try await test.log.verify()
        #expect(report.actionsChecked == 5)
        #expect(report.firstBrokenActionID == nil)
        #expect(report.brokenReason == nil)
        #expect(report.integrityCheck == ["ok"])
        #expect(report.rowsChecked == 5, "2 messages and 3 changes")
        #expect(report.firstBrokenRow == nil)
        #expect(report.isIntact)
        #expect(try await test.log.verify() == report)
        // Each hash differs and the chain survives a reopen.
        let reopened = try AuditLog(path: test.path)
        #expect(try await reopened.verify() == report)
    }

    @Test("the actions table refuses UPDATE and DELETE")
    func appendOnlyInSQL() async throws {
        let test = try await Self.populated()
        let raw = try Connection(path: test.path)
        for sql in ["UPDATE actions SET actor = 'mallory' WHERE id = 2", "DELETE FROM actions WHERE id = 5"] {
            #expect {
                try raw.run(sql)
            } throws: { error in
                let error = error as? SQLiteError
                return error?.resultCode == .SQLITE_CONSTRAINT_TRIGGER && error?.message.contains("append-only") == true
            }
        }
        #expect(try await test.log.verify().isIntact)
    }

    @Test(
        "an edited row breaks the chain at that row",
        arguments: [
            "UPDATE actions SET reason = 'nothing to see' WHERE id = 3",
            "UPDATE actions SET at = at + 1 WHERE id = 3",
            "UPDATE actions SET hash = '\(String(repeating: "0", count: 64))' WHERE id = 3",
            "UPDATE actions SET change_id = NULL WHERE id = 3",
        ])
    func editedRow(sql: String) async throws {
        let test = try await Self.populated()
        let raw = try Connection(path: test.path)
        try raw.execute("DROP TRIGGER actions_no_update")
        try raw.run(sql)
        let report = try await test.log.verify()
        #expect(report.firstBrokenActionID == 3)
        #expect(report.brokenReason?.hasPrefix("action 3:") == true)
        #expect(!report.isIntact)
    }

    @Test(
        "an edited message or change, whose own table has no chain, is named by verify",
        arguments: [
            ("UPDATE messages SET body = 'nothing to see' WHERE message_id = 'm-1'", "message m-1"),
            ("UPDATE messages SET quarantine_reason = 'x' WHERE message_id = 'm-1'", "message m-1"),
            ("UPDATE change_images SET new_image_json = '{}' WHERE change_id = 1", "change 1"),
            ("DELETE FROM change_images WHERE change_id = 1", "change 1"),
            ("UPDATE changes SET document_id = '43' WHERE id = 3", "change 3"),
            ("UPDATE changes SET status = 'applied' WHERE id = 2", "change 2"),
        ])
    func editedMessageOrChange(sql: String, row: String) async throws {
        let test = try await Self.populated()
        let raw = try Connection(path: test.path)
        try raw.run(sql)
        let report = try await test.log.verify()
        #expect(report.firstBrokenActionID == nil, "the action chain itself is intact")
        #expect(report.firstBrokenRow == row)
        #expect(report.brokenRowReason?.hasPrefix("\(row):") == true)
        #expect(!report.isIntact)
    }

    @Test("a removed row breaks the chain at the next row; a removed tail is reported too")
    func removedRows() async throws {
        let middle = try await Self.populated()
        let raw = try Connection(path: middle.path)
        try raw.execute("DROP TRIGGER actions_no_delete; DELETE FROM actions WHERE id = 2;")
        let report = try await middle.log.verify()
        #expect(report.firstBrokenActionID == 3)
        #expect(report.brokenReason == "action 3: action 2 is missing from the chain")

        let tail = try await Self.populated()
        let rawTail = try Connection(path: tail.path)
        try rawTail.execute("DROP TRIGGER actions_no_delete; DELETE FROM actions WHERE id >= 4;")
        let tailReport = try await tail.log.verify()
        #expect(tailReport.firstBrokenActionID == 4)
        #expect(tailReport.brokenReason?.contains("actions 4–5 were removed") == true)
    }

    @Test("the hash is SHA-256 over the previous hash and the documented canonical encoding", arguments: StoreBackend.allCases)
    func documentedEncoding(_ backend: StoreBackend) async throws {
        let test = try await TestLog(backend)
        let action = try await test.log.appendAction(
            changeID: nil, messageID: nil, ActionEntry(action: .conflict, actor: "a", outcome: "o"),
            at: Date(timeIntervalSince1970: 1))
        // Computed independently (Python hashlib) from ActionChain's documentation: SHA-256 of 32 zero bytes,
        // then id 1, NULL, NULL, "conflict", "a", NULL, "o", NULL, at 1000 (integers 0x01 + 8 bytes big-endian,
        // NULL 0x00, text 0x02 + 8-byte length + UTF-8).
        #expect(action.hash == "cbdbb7c68e76b26ecbb567b732030207f9b7e970d52d47bf91f54145b88ab801")
    }
}
