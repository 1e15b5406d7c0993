import Crypto
import Foundation
import SQLite
import TestSupport
import Testing

@testable import PostgresStore

/// The PostgreSQL migration runner against a throwaway server, with the real `migrations/postgres/`.
@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    /// `migrations/postgres/` at the package root: the PostgreSQL translation of the schema.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations/postgres")

    /// The checksum both stores record: SHA-256 of the file's text, hex.
    static func checksum(_ sql: String) -> String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func open(_ server: PostgresServer, folder: URL = folder) async throws -> PostgresSession {
        try await PostgresSession.open(
            PostgresURL(server.url()), migrations: Migration.load(from: folder), checksum: checksum)
    }

    @Test(
        "every SQLite migration has a PostgreSQL counterpart of the same version and name; document claims are each store's own (0010 and 0019)"
    )
    func sameVersionsAsSQLite() throws {
        let postgres = try Migration.load(from: Self.folder).map(\.fileName)
        let sqlite = try Migration.load(from: Self.folder.deletingLastPathComponent()).map(\.fileName)
        #expect(sqlite.count == postgres.count)
        #expect(postgres.filter { $0 != "0010_document_claims.sql" } == sqlite.filter { $0 != "0019_document_claims.sql" })
        #expect(postgres.contains("0010_document_claims.sql"))
        #expect(sqlite.contains("0019_document_claims.sql"))
        #expect(!sqlite.contains { $0.hasPrefix("0010_") })
        #expect(!postgres.contains { $0.hasPrefix("0019_") })
    }

    @Test("a new database gets every migration once; opening again applies nothing")
    func appliesOnceThenNothing() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        // Every migration of the folder, in order (numbers may skip: each is assigned to the change that needs it).
        let versions = try Migration.load(from: Self.folder).map(\.version).sorted()
        let first = try await Self.open(server)
        #expect(first.appliedAtOpen.map(\.version) == versions)
        let history = try first.appliedMigrations()
        #expect(history.map(\.version) == versions)
        #expect(history.allSatisfy { $0.checksum.count == 64 && $0.appliedAt.hasSuffix("Z") })
        first.close()

        let second = try await Self.open(server)
        #expect(second.appliedAtOpen.isEmpty)
        #expect(try second.appliedMigrations() == history)
        second.close()

        // The schema is there and keeps its rules: actions are append-only.
        let tables = try await server.psql(
            "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")
        #expect(
            tables
                == "actions,batches,chain_anchors,chain_head,change_images,changes,document_claims,idempotency_keys,leases,messages,reconcile_runs,reconcile_seen,replay_pause,runs,schema_migrations,stream_problems,write_intents"
        )
        try await server.psql(
            """
            INSERT INTO messages (message_id, body, format, received_at, receive_count) VALUES ('m1', '{}', 'B', 1, 1);
            INSERT INTO actions (message_id, action, actor, outcome, at, hash) VALUES ('m1', 'reconciled', 'system', 'ok', 1, repeat('0', 64));
            """)
        let refused = await #expect(throws: PostgresServer.Failure.self) {
            try await server.psql("UPDATE actions SET actor = 'someone'")
        }
        #expect(refused?.description.contains("actions are append-only: UPDATE is not allowed") == true)
    }

    @Test("an applied migration whose file was edited is refused, naming the file")
    func editedMigrationRefused() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pg-migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.folder, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        try await Self.open(server, folder: copy).close()

        let edited = copy.appendingPathComponent("0003_batches_and_lease.sql")
        try (String(contentsOf: edited, encoding: .utf8) + "\n-- an edit after the fact\n").write(
            to: edited, atomically: true, encoding: .utf8)
        let error = await #expect(throws: PostgresStoreError.self) { try await Self.open(server, folder: copy) }
        #expect(error?.code == .migration)
        #expect(error?.message.contains("migration 0003_batches_and_lease.sql changed after it was applied") == true)
        #expect(
            try await server.psql("SELECT count(*) FROM schema_migrations") == String(try Migration.load(from: Self.folder).count)
        )
    }

    @Test("a migration that fails is rolled back whole and named")
    func failingMigrationRolledBack() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("pg-migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.folder, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let known = try Migration.load(from: Self.folder).map(\.version).max() ?? 0
        let broken = Migration(version: known + 1, name: "broken", sql: "").fileName
        try "CREATE TABLE half_done (id BIGINT);\nSELECT no_such_function();\n".write(
            to: copy.appendingPathComponent(broken), atomically: true, encoding: .utf8)
        let error = await #expect(throws: PostgresStoreError.self) { try await Self.open(server, folder: copy) }
        #expect(error?.code == .migration)
        #expect(error?.message.contains("migration \(broken) failed") == true)
        #expect(error?.sqlState == "42883")
        #expect(try await server.psql("SELECT max(version) FROM schema_migrations") == String(known))
        #expect(try await server.psql("SELECT to_regclass('half_done') IS NULL") == "t")
    }

    @Test("openers starting together apply each migration exactly once")
    func concurrentOpeners() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await Self.open(server)
                    store.close()
                    return store.appliedAtOpen.map(\.version)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let known = try Migration.load(from: Self.folder).map(\.version).sorted()
        #expect(applied.flatMap { $0 }.sorted() == known)
        #expect(
            try await server.psql("SELECT count(*), count(DISTINCT version) FROM schema_migrations")
                == "\(known.count)|\(known.count)")
    }

    @Test("the statement splitter keeps dollar-quoted bodies and quoted semicolons whole")
    func splitsStatements() {
        let statements = PostgresSession.statements(
            in: """
                -- a comment; with a semicolon
                CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$
                BEGIN RAISE EXCEPTION 'no; never'; END
                $body$;
                /* block; comment */ INSERT INTO t VALUES ('a;b', "c;d", $$e;f$$);
                ;
                """)
        #expect(statements.count == 2)
        #expect(statements[0].hasSuffix("BEGIN RAISE EXCEPTION 'no; never'; END\n$body$"))
        #expect(statements[1] == #"INSERT INTO t VALUES ('a;b', "c;d", $$e;f$$)"#)
    }
}
