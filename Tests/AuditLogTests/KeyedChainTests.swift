import Foundation
import SQLite
import Testing

@testable import AuditLog

/// The keyed chain (HMAC-SHA-256 with a key outside the file), its anchor, the head, and the
/// attacks that the plain SHA-256 chain did not catch: each one makes `verify` name the first
/// bad row, or the missing head.
@Suite("Keyed chain")
struct KeyedChainTests {
    static let key = try! AuditChainKey(text: String(repeating: "k3y-", count: 16))
    static let otherKey = try! AuditChainKey(text: String(repeating: "0th3r", count: 8))

    /// A keyed log on its own file, with `ChainTests.populated`'s 5 actions.
    static func populatedKeyed() async throws -> (directory: TemporaryDirectory, log: AuditLog) {
        let directory = try TemporaryDirectory()
        let log = try AuditLog(path: directory.path("audit.sqlite3"), chainKey: key)
        try await populate(log)
        return (directory, log)
    }

    static func populate(_ log: AuditLog) async throws {
        let ids = try await log.ingest([Fixture.message("m-1", [Fixture.change(1), Fixture.change(2)])], at: Fixture.t0)[0]
            .storedChangeIDs
        try await log.transition(
            ids[0], to: .applied, action: ActionEntry(action: .applied, outcome: "indexed", response: "{}"), at: Fixture.t0)
        try await log.transition(ids[1], to: .failed, action: ActionEntry(action: .failed, outcome: "429"), at: Fixture.t0)
        _ = try await Fixture.ingestOne(log, 3)
    }

    /// What an attacker without the key can do: recompute every hash from `id` on with plain
    /// SHA-256, from the stored columns (the documented encoding).
    static func recomputeUnkeyed(from id: Int64, in db: Connection) throws {
        try db.execute("DROP TRIGGER IF EXISTS actions_no_update")
        var previous =
            id == 1
            ? ActionChain.genesis
            : ActionChain.bytes(ofHex: try db.queryOne("SELECT hash FROM actions WHERE id = ?", [id - 1]) { $0.column(0) } ?? "")!
        let rows = try db.query("SELECT \(Rows.actionColumns) FROM actions WHERE id >= ? ORDER BY id", [id]) { row in
            ((0..<9).map { row.value(at: $0) }, row.column(0) as Int64)
        }
        for (columns, rowID) in rows {
            let hash = ActionChain.hash(previous: previous, columns: columns)
            try db.run("UPDATE actions SET hash = ? WHERE id = ?", [hash, rowID])
            previous = ActionChain.bytes(ofHex: hash)!
        }
    }

    @Test("a new keyed log is keyed from its first action and verifies with the key")
    func freshKeyed() async throws {
        let (directory, log) = try await Self.populatedKeyed()
        let report = try await log.verify()
        #expect(report.isIntact, "\(report)")
        #expect(report.keyedFrom == 1)
        #expect(report.head.count == 5)
        #expect(report.head == (try await log.head()))
        // The keyed hash is not the plain one.
        let raw = try Connection(path: directory.path("audit.sqlite3"))
        let first = try raw.queryOne("SELECT \(Rows.actionColumns) FROM actions WHERE id = 1") { row in
            ((0..<9).map { row.value(at: $0) }, row.column(9) as String)
        }!
        #expect(first.1 == ActionChain.hash(previous: ActionChain.genesis, columns: first.0, key: Self.key))
        #expect(first.1 != ActionChain.hash(previous: ActionChain.genesis, columns: first.0))
    }

    @Test("without a key the log works as before and verify says the chain is unkeyed")
    func unkeyed() async throws {
        let test = try await ChainTests.populated()
        let report = try await test.log.verify()
        #expect(report.isIntact)
        #expect(!report.isKeyed)
        #expect(report.keyedFrom == nil)
        #expect(report.head == (try await test.log.head()))
    }

    @Test("an existing unkeyed log is re-anchored where the key is introduced, and that point is recorded")
    func migration() async throws {
        let test = try await ChainTests.populated()
        let keyed = try AuditLog(path: test.path, chainKey: Self.key)
        _ = try await Fixture.ingestOne(keyed, 4)
        let report = try await keyed.verify()
        #expect(report.isIntact, "\(report)")
        #expect(report.keyedFrom == 6, "actions 1-5 keep SHA-256, 6 on are keyed")
        #expect(report.head.count == 6)
        let raw = try Connection(path: test.path)
        let anchors = try raw.query("SELECT first_action_id, key_id, previous_hash FROM chain_anchors") { row in
            (row.column(0) as Int64, row.column(1) as String, row.column(2) as String?)
        }
        let fifth = try raw.queryOne("SELECT hash FROM actions WHERE id = 5") { $0.column(0) as String }
        #expect(anchors.count == 1)
        #expect(anchors.first?.0 == 6)
        #expect(anchors.first?.1 == Self.key.keyID)
        #expect(anchors.first?.2 == fifth)
        #expect(try raw.appliedMigrations().map(\.version).contains(4))
        // Re-opening with the same key adds no anchor.
        _ = try AuditLog(path: test.path, chainKey: Self.key)
        #expect(try raw.queryOne("SELECT count(*) FROM chain_anchors") { $0.column(0) as Int64 } == 1)
    }

    @Test("a keyed log refuses writes and verify without its key, and another key at open; reads still work")
    func keyRequired() async throws {
        let (directory, _) = try await Self.populatedKeyed()
        let path = directory.path("audit.sqlite3")
        let keyless = try AuditLog(path: path)
        #expect(try await keyless.stats().changes[.pending] == 1)
        await #expect(throws: AuditLogError.self) { try await Fixture.ingestOne(keyless, 9) }
        do {
            _ = try await keyless.verify()
            Issue.record("verify without the key must fail")
        } catch {
            #expect(error.code == .keyRequired)
            #expect(error.description.contains("keyed from action 1"))
            #expect(!error.description.contains("k3y-"))
        }
        #expect {
            try AuditLog(path: path, chainKey: Self.otherKey)
        } throws: { error in
            let error = error as? AuditLogError
            return error?.code == .invalidKey && error?.description.contains(Self.key.keyID) == true
        }
        #expect(throws: AuditLogError.self) { try AuditChainKey(text: "short") }
        #expect(!"\(Self.key)".contains("k3y-"))
    }

    @Test("attack: triggers dropped, tail rows and their messages deleted, sqlite_sequence reset: the head is missing")
    func tailDeletedAndSequenceReset() async throws {
        let (directory, log) = try await Self.populatedKeyed()
        let head = try await log.head()
        let raw = try Connection(path: directory.path("audit.sqlite3"))
        try raw.execute(
            """
            DROP TRIGGER actions_no_delete;
            DELETE FROM actions WHERE id = 5;
            DELETE FROM change_images WHERE change_id = 3;
            DELETE FROM changes WHERE id = 3;
            DELETE FROM messages WHERE message_id = 'message-3';
            UPDATE sqlite_sequence SET seq = 4 WHERE name = 'actions';
            """)
        let report = try await log.verify(expectedHead: head)
        #expect(!report.isIntact)
        #expect(report.firstBrokenActionID == nil, "what is left is a consistent chain")
        #expect(report.headReason?.contains("the expected head \(head) is missing") == true, "\(report)")
        #expect(report.head.count == 4)
        // An older head is still held.
        let older = ChainHead(count: 4, hash: report.head.hash)
        #expect(try await log.verify(expectedHead: older).isIntact)
    }

    @Test("attack: a message body edited, its fingerprint and every later hash recomputed: the first keyed row breaks")
    func bodyEditedAndRecomputed() async throws {
        let (directory, log) = try await Self.populatedKeyed()
        let raw = try Connection(path: directory.path("audit.sqlite3"))
        try raw.execute("DROP TRIGGER actions_no_update")
        try raw.run("UPDATE messages SET body = 'nothing to see' WHERE message_id = 'm-1'")
        let fingerprint = try RowFingerprint.message("m-1", in: AuditDatabase(.sqlite(raw)))!
        let response = try raw.queryOne("SELECT response FROM actions WHERE id = 1") { $0.column(0) as String }!
        let old = RowFingerprint.recorded(RowFingerprint.messageKey, in: response)!
        try raw.run("UPDATE actions SET response = ? WHERE id = 1", [response.replacingOccurrences(of: old, with: fingerprint)])
        try Self.recomputeUnkeyed(from: 1, in: raw)
        let report = try await log.verify()
        #expect(!report.isIntact)
        #expect(report.firstBrokenActionID == 1)
        #expect(report.brokenReason?.hasPrefix("action 1: stored keyed hash") == true, "\(report)")
    }

    @Test("the same body edit on an unkeyed chain passes the links, but not the head kept elsewhere")
    func bodyEditedUnkeyed() async throws {
        let test = try await ChainTests.populated()
        let head = try await test.log.head()
        let raw = try Connection(path: test.path)
        try raw.execute("DROP TRIGGER actions_no_update")
        try raw.run("UPDATE actions SET reason = 'nothing to see' WHERE id = 3")
        try Self.recomputeUnkeyed(from: 3, in: raw)
        #expect(try await test.log.verify().isIntact, "an unkeyed chain can be recomputed: that is why it gets a key")
        let report = try await test.log.verify(expectedHead: head)
        #expect(!report.isIntact)
        #expect(report.headReason?.contains("action 5 now has hash") == true, "\(report)")
    }

    @Test("tail truncation, a deleted middle row and reordered rows break a keyed chain")
    func truncationDeletionReordering() async throws {
        let truncated = try await Self.populatedKeyed()
        let head = try await truncated.log.head()
        try Connection(path: truncated.directory.path("audit.sqlite3")).execute(
            "DROP TRIGGER actions_no_delete; DELETE FROM actions WHERE id >= 4;")
        let truncatedReport = try await truncated.log.verify(expectedHead: head)
        #expect(truncatedReport.firstBrokenActionID == 4)
        #expect(truncatedReport.headReason?.contains("is missing") == true)

        let middle = try await Self.populatedKeyed()
        try Connection(path: middle.directory.path("audit.sqlite3")).execute(
            "DROP TRIGGER actions_no_delete; DELETE FROM actions WHERE id = 2;")
        let middleReport = try await middle.log.verify()
        #expect(middleReport.firstBrokenActionID == 3)
        #expect(middleReport.brokenReason == "action 3: action 2 is missing from the chain")

        let reordered = try await Self.populatedKeyed()
        let raw = try Connection(path: reordered.directory.path("audit.sqlite3"))
        // Swap actions 2 and 3, keeping each row's stored hash with its contents.
        try raw.execute(
            """
            DROP TRIGGER actions_no_update;
            UPDATE actions SET id = -2 WHERE id = 2;
            UPDATE actions SET id = 2 WHERE id = 3;
            UPDATE actions SET id = 3 WHERE id = -2;
            """)
        let reorderedReport = try await reordered.log.verify()
        #expect(reorderedReport.firstBrokenActionID == 2)
        #expect(reorderedReport.brokenReason?.hasPrefix("action 2:") == true)
    }

    @Test("a recomputed unkeyed chain: with the anchor kept the first keyed row breaks; with it removed, the head is missing")
    func recomputedUnkeyedChain() async throws {
        let kept = try await Self.populatedKeyed()
        try Self.recomputeUnkeyed(from: 1, in: try Connection(path: kept.directory.path("audit.sqlite3")))
        let keptReport = try await kept.log.verify()
        #expect(keptReport.firstBrokenActionID == 1)

        let removed = try await Self.populatedKeyed()
        let head = try await removed.log.head()
        let path = removed.directory.path("audit.sqlite3")
        let raw = try Connection(path: path)
        try Self.recomputeUnkeyed(from: 1, in: raw)
        try raw.execute("DROP TRIGGER chain_anchors_no_delete; DELETE FROM chain_anchors;")
        // Opened with the key again, the stripped chain is re-anchored at its end; only the head kept
        // elsewhere tells the rewrite apart.
        let reopened = try AuditLog(path: path, chainKey: Self.key)
        let report = try await reopened.verify(expectedHead: head)
        #expect(!report.isIntact)
        #expect(report.keyedFrom == 6)
        #expect(report.headReason?.contains("action 5 now has hash") == true, "\(report)")
    }

    @Test("a forged anchor, or history rewritten before the anchor, is named")
    func forgedAnchorAndRewrittenPrefix() async throws {
        let forged = try await Self.populatedKeyed()
        let raw = try Connection(path: forged.directory.path("audit.sqlite3"))
        try raw.execute(
            """
            DROP TRIGGER chain_anchors_no_update;
            UPDATE chain_anchors SET anchored_at = anchored_at + 1;
            """)
        let forgedReport = try await forged.log.verify()
        #expect(forgedReport.firstBrokenActionID == 1)
        #expect(forgedReport.brokenReason?.contains("key anchor was not written with this key") == true)

        let test = try await ChainTests.populated()
        let keyed = try AuditLog(path: test.path, chainKey: Self.key)
        _ = try await Fixture.ingestOne(keyed, 4)
        let prefix = try Connection(path: test.path)
        try prefix.execute("DROP TRIGGER actions_no_update")
        try prefix.run("UPDATE actions SET actor = 'mallory' WHERE id = 2")
        try Self.recomputeUnkeyed(from: 2, in: prefix)
        let report = try await keyed.verify()
        #expect(report.firstBrokenActionID == 6)
        #expect(report.brokenReason?.contains("not the one the key was anchored after") == true, "\(report)")
    }

    @Test("a head parses from COUNT:HEX and prints back the same")
    func headText() {
        let hash = String(repeating: "ab", count: 32)
        #expect(ChainHead(parsing: "12:\(hash)") == ChainHead(count: 12, hash: hash))
        #expect(ChainHead(parsing: "12:\(hash.uppercased())")?.hash == hash)
        #expect(ChainHead(parsing: "12:\(hash)")?.description == "12:\(hash)")
        for bad in ["12", "x:\(hash)", "-1:\(hash)", "12:abc", "12:\(hash):1", ":\(hash)"] {
            #expect(ChainHead(parsing: bad) == nil, "\(bad)")
        }
    }
}
