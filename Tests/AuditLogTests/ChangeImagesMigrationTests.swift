import Foundation
import PostgresStore
import SQLite
import StreamModel
import TestSupport
import Testing

@testable import AuditLog

@Suite("Migration 0009: change images in a table of their own")
struct ChangeImagesMigrationTests {
    /// The repository's `migrations/` folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations")

    /// A change's write-once columns as fingerprinted before 0009, when the images were columns of `changes`.
    static let fingerprintedColumnsBefore = """
        id, message_id, stream_arn, shard_id, sequence_key, sequence_number, event_id, event_name, keys_json, document_id, \
        old_image_json, new_image_json, approximate_creation_at, batch_info_json, created_at
        """

    @Test(
        "a store written before 0009 migrates in place: images move text for text, the chain and every fingerprint still verify",
        arguments: StoreBackend.allCases)
    func migratesInPlace(_ backend: StoreBackend) async throws {
        let directory = try TemporaryDirectory()
        let location: String
        switch backend {
        case .sqlite:
            location = directory.path("audit.sqlite3")
            let connection = try Connection(path: location)
            try connection.migrate(
                try Migration.load(from: Self.folder).filter { $0.version < 9 }, checksum: ActionChain.migrationChecksum)
            try Self.storeBefore0009(in: AuditDatabase(.sqlite(connection)))
        case .postgres:
            location = try await SharedPostgresServer.newDatabase()
            let session = try await PostgresSession.open(
                PostgresURL(location),
                migrations: try Migration.load(from: Self.folder.appendingPathComponent("postgres")).filter { $0.version < 9 },
                checksum: ActionChain.migrationChecksum)
            try Self.storeBefore0009(in: AuditDatabase(.postgres(session)))
            session.close()
        }

        let log = try await AuditLog(location: location)
        let report = try await log.verify()
        #expect(report.isIntact, "\(report)")
        #expect(report.rowsChecked == 4)  // the message and its three changes
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows
        #expect(changes.map(\.documentID) == ["42", "42", nil])
        #expect(changes.map(\.oldImage) == [nil, Fixture.artist("42", name: "Before"), nil])
        #expect(changes.map(\.newImage) == [Fixture.artist("42", name: "Before"), Fixture.artist("42", name: "After"), nil])
        #expect(changes.map(\.status) == [.pending, .pending, .filtered])

        // Appends after the migration chain on to the migrated trail, which still verifies.
        try await log.transition(
            changes[0].id, to: .applied, action: ActionEntry(action: .applied, outcome: "ok"), at: Fixture.t0)
        _ = try await log.ingest([Fixture.message("m-after", [Fixture.change(7)])], at: Fixture.t0)
        #expect(try await log.verify().isIntact)
    }

    /// Stores, with the schema before 0009, one message with three changes — one with a new
    /// image only, one with both images, one with neither — each with its first action
    /// recording its fingerprint over the image columns, as ingest did then.
    static func storeBefore0009(in db: AuditDatabase) throws {
        let at = Fixture.t0.databaseMilliseconds
        try db.transaction(.immediate) {
            try db.run(
                "INSERT INTO messages (message_id, body, format, received_at, receive_count) VALUES ('m-before', '{}', 'B', ?, 1)",
                [at])
            var messageFingerprint = try RowFingerprint.message("m-before", in: db)
            let images: [(document: String?, old: Item?, new: Item?, status: ChangeStatus)] = [
                ("42", nil, Fixture.artist("42", name: "Before"), .pending),
                ("42", Fixture.artist("42", name: "Before"), Fixture.artist("42", name: "After"), .pending),
                (nil, nil, nil, .filtered),
            ]
            for (n, change) in images.enumerated() {
                let id = try #require(
                    try db.queryOne(
                        """
                        INSERT INTO changes (message_id, stream_arn, shard_id, sequence_key, sequence_number, event_id, event_name,
                                             keys_json, document_id, old_image_json, new_image_json, status, created_at, updated_at)
                        VALUES ('m-before', ?, 'shard', ?, ?, ?, 'MODIFY', ?, ?, ?, ?, ?, ?, ?) RETURNING id
                        """,
                        [
                            Fixture.streamARN, Fixture.sequence(n + 1).sortKey, Fixture.sequence(n + 1).digits, "event-\(n + 1)",
                            #"{"PK":{"S":"ARTIST#42"}}"#, change.document, Rows.text(of: change.old), Rows.text(of: change.new),
                            change.status.rawValue, at, at,
                        ]
                    ) { $0.column(0) as Int64 })
                let changeFingerprint = try db.queryOne(
                    "SELECT \(fingerprintedColumnsBefore) FROM changes WHERE id = ?", [id]
                ) { row in RowFingerprint.fingerprint((0..<15).map { row.value(at: $0) }) }
                try AuditLog.appendAction(
                    changeID: id, messageID: "m-before",
                    ActionEntry(
                        action: change.status == .filtered ? .filtered : .ingested, outcome: change.status.rawValue,
                        response: RowFingerprint.response(message: messageFingerprint, change: changeFingerprint)),
                    at: at, in: db)
                messageFingerprint = nil
            }
        }
    }
}
