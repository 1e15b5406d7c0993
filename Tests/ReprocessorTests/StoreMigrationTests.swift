import AuditLog
import Foundation
import Reprocessor
import SQLite
import StreamModel
import TestSupport
import Testing

@Suite("migrate-store: a SQLite store into PostgreSQL")
struct StoreMigrationTests {
    static let key = try! AuditChainKey(text: "migrate-store-test-key-0123456789abcdef")
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// A new SQLite store in a folder of its own.
    static func sqliteStore() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("audit.sqlite3").path
    }

    /// Messages `first..<last`: each with two changes of one artist, one applied, one quarantined message every ten.
    static func fill(_ log: AuditLog, _ range: Range<Int>) async throws {
        for n in range {
            let message: NewMessage
            if n % 10 == 9 {
                message = NewMessage(
                    messageID: "m-\(n)", body: "not json \(n)", format: .forwardedRecords, receivedAt: t0,
                    disposition: .quarantined(reason: "body is not JSON"))
            } else {
                let changes = (0..<2).map { step in
                    NewChange(
                        streamARN: "arn:aws:dynamodb:eu-west-2:123456789012:table/t/stream/1", shardID: "shard-1",
                        sequenceNumber: SequenceNumber(String(1_000_000 + n * 2 + step))!, eventID: "e-\(n)-\(step)",
                        eventName: .modify, keys: ["PK": .string("ARTIST#\(n)"), "SK": .string("METADATA")],
                        documentID: String(n), oldImage: ["PK": .string("ARTIST#\(n)"), "name": .string("old")],
                        newImage: ["PK": .string("ARTIST#\(n)"), "name": .string("new \(step)"), "rating": .number("4.5")],
                        approximateCreationTime: t0, status: .pending)
                }
                message = NewMessage(
                    messageID: "m-\(n)", body: #"{"Records":[]}"#, format: .forwardedRecords, errorText: "timed out",
                    receivedAt: t0, receiveCount: 2, disposition: .changes(changes))
            }
            let outcome = try await log.ingest([message], at: t0)
            if let first = outcome[0].storedChangeIDs.first {
                try await log.transition(first, to: .applied, action: ActionEntry(action: .applied, outcome: "written"), at: t0)
            }
        }
        try await log.recordRun(finishedAt: t0)
    }

    @Test(
        "every row, id and hash is copied; both chains verify with one head; the copy works on; a second run copies only what is new"
    )
    func copiesAndResumes() async throws {
        let path = try Self.sqliteStore()
        let source = try AuditLog(path: path, chainKey: Self.key)
        try await Self.fill(source, 0..<40)
        let target = try await SharedPostgresServer.newDatabase()

        let first = try await StoreMigration.run(from: path, to: target, chainKey: Self.key, pageSize: 7)
        let sourceHead = try await source.verify().head
        #expect(first.head == sourceHead)
        #expect(first.copy.copied["messages"] == 40)
        #expect(first.copy.copied["changes"] == 72)
        let sourceActions = try await source.head().count
        #expect(first.copy.copied["actions"].map(Int64.init) == sourceActions)
        #expect(first.copy.copied["chain_anchors"] == 1)
        #expect(first.copy.alreadyThere.values.allSatisfy { $0 == 0 })

        // The source goes on (as if the first run had stopped here); a second run continues after what is there.
        try await Self.fill(source, 40..<55)
        let second = try await StoreMigration.run(from: path, to: target, chainKey: Self.key, pageSize: 4)
        #expect(second.copy.alreadyThere["messages"] == 40)
        #expect(second.copy.copied["messages"] == 15)
        #expect(second.copy.copied["changes"] == 28)
        #expect(second.head == (try await source.verify().head))

        // The copy is a working store: rows listed alike, and new work chains on.
        let copy = try await AuditLog(location: target, chainKey: Self.key)
        let sourceStats = try await source.stats()
        let copyStats = try await copy.stats()
        #expect(copyStats.changes == sourceStats.changes)
        #expect(copyStats.messagesTotal == sourceStats.messagesTotal)
        let quarantined = try await copy.quarantinedMessages(after: nil, limit: 100).rows.map(\.messageID)
        #expect(Set(quarantined) == Set((0..<55).filter { $0 % 10 == 9 }.map { "m-\($0)" }))
        try await Self.fill(copy, 100..<103)
        let report = try await copy.verify()
        #expect(report.isIntact, "\(report)")
        #expect(report.actionsChecked == second.actions + 3 * 3)
    }

    @Test("a target holding another trail is refused, and so is a source whose chain is broken; nothing is copied")
    func refusals() async throws {
        let path = try Self.sqliteStore()
        let source = try AuditLog(path: path)
        try await Self.fill(source, 0..<5)
        let other = try await SharedPostgresServer.newDatabase()
        let unrelated = try await AuditLog(location: other)
        try await Self.fill(unrelated, 500..<502)
        let refused = await #expect(throws: AuditLogError.self) {
            try await StoreMigration.run(from: path, to: other, chainKey: nil)
        }
        #expect(refused?.code == .corrupt)
        #expect(refused?.description.contains("another audit trail") == true)
        #expect(try await unrelated.stats().messagesTotal == 2)

        let raw = try Connection(path: path)
        try raw.execute("DROP TRIGGER actions_no_update")
        try raw.run("UPDATE actions SET outcome = 'forged' WHERE id = 3")
        let empty = try await SharedPostgresServer.newDatabase()
        let broken = await #expect(throws: AuditLogError.self) {
            try await StoreMigration.run(from: path, to: empty, chainKey: nil)
        }
        #expect(
            broken?.description.contains("the source's chain does not verify (action 3") == true, "\(String(describing: broken))")
        let untouched = try await AuditLog(location: empty)
        #expect(try await untouched.stats().messagesTotal == 0)

        let notAURL = await #expect(throws: ReprocessorError.self) {
            try await StoreMigration.run(from: path, to: path, chainKey: nil)
        }
        #expect(notAURL?.code == .invalidSetting)
    }

    @Test(
        "refused while a writer holds the source's run lease, naming it; --force copies anyway; the lease is not copied and comes free"
    )
    func refusedWhileAWriterHoldsTheSource() async throws {
        let path = try Self.sqliteStore()
        let source = try AuditLog(path: path)
        try await Self.fill(source, 0..<5)
        // A serve writing the store: it holds the kernel lock and the row.
        let writer = RunLease(auditLog: source, holder: "box-1:4242/serve", ttl: .seconds(60))
        #expect(try await writer.acquire() != nil)
        let target = try await SharedPostgresServer.newDatabase()

        do {
            _ = try await StoreMigration.run(from: path, to: target, chainKey: nil)
            Issue.record("copied a store a writer holds")
        } catch let error as ReprocessorError {
            #expect(error.code == .storeInUse)
            #expect("\(error)".contains("box-1:4242/serve") && "\(error)".contains("--force"), "\(error)")
        }
        let forced = try await StoreMigration.run(from: path, to: target, chainKey: nil, force: true)
        #expect(forced.actions > 0)

        // The writer gone, the copy takes the lease for itself, and leaves it free in both stores.
        await writer.release()
        let copied = try await StoreMigration.run(from: path, to: target, chainKey: nil)
        #expect(copied.head == forced.head)
        let shared = try await AuditLog(location: target)
        #expect(
            try await shared.lease(name: AuditLog.runLeaseName) == nil, "the source's lease is not copied: the fleet's is free")
        let next = RunLease(auditLog: source, holder: "box-1:4243/run", ttl: .seconds(60))
        #expect(try await next.acquire() != nil, "the source's lease is free again")
        await next.release()
    }
}
