import Foundation
import SQLite
import Testing

@Suite("Migrations")
struct MigrationTests {
    /// A deterministic checksum for tests (FNV-1a, hex); the audit log uses SHA-256.
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// A migrations folder with the given files.
    static func folder(in directory: TemporaryDirectory, _ files: [String: String]) throws -> URL {
        let folder = directory.url.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name))
        }
        return folder
    }

    static let first = "CREATE TABLE a (x INTEGER);"
    static let second = "CREATE TABLE b (y TEXT);\nINSERT INTO b VALUES ('seed');"

    @Test("a fresh database gets every migration in order, each recorded with its checksum")
    func freshDatabase() throws {
        let directory = try TemporaryDirectory()
        let folder = try Self.folder(
            in: directory, ["0002_b.sql": Self.second, "0001_a.sql": Self.first, "README.md": "not a migration"])
        let migrations = try Migration.load(from: folder)
        #expect(migrations.map(\.fileName) == ["0001_a.sql", "0002_b.sql"])
        let db = try Connection(path: directory.path("fresh.sqlite3"))
        let applied = try db.migrate(migrations, checksum: Self.checksum)
        #expect(applied.map(\.version) == [1, 2])
        let recorded = try db.appliedMigrations()
        #expect(recorded.map(\.version) == [1, 2])
        #expect(recorded.map(\.name) == ["a", "b"])
        #expect(recorded.map(\.checksum) == [Self.checksum(Self.first), Self.checksum(Self.second)])
        #expect(try db.queryOne("SELECT y FROM b") { $0.column(0) as String } == "seed")
    }

    @Test("re-opening an up-to-date database applies nothing")
    func reopenIsNoOp() throws {
        let directory = try TemporaryDirectory()
        let folder = try Self.folder(in: directory, ["0001_a.sql": Self.first, "0002_b.sql": Self.second])
        let path = directory.path("reopen.sqlite3")
        try Connection(path: path).migrate(try Migration.load(from: folder), checksum: Self.checksum)
        let db = try Connection(path: path)
        #expect(try db.migrate(try Migration.load(from: folder), checksum: Self.checksum).isEmpty)
        #expect(try db.queryOne("SELECT count(*) FROM b") { $0.column(0) as Int } == 1)
    }

    @Test("a new migration is applied on the next open, the old ones are not re-run")
    func laterMigration() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("later.sqlite3")
        try Connection(path: path).migrate([Migration(version: 1, name: "a", sql: Self.first)], checksum: Self.checksum)
        let applied = try Connection(path: path).migrate(
            [Migration(version: 1, name: "a", sql: Self.first), Migration(version: 2, name: "b", sql: Self.second)],
            checksum: Self.checksum)
        #expect(applied.map(\.version) == [2])
    }

    @Test("an applied migration whose text changed is an error naming the file, and nothing runs")
    func editedMigration() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("edited.sqlite3")
        try Connection(path: path).migrate([Migration(version: 1, name: "a", sql: Self.first)], checksum: Self.checksum)
        let db = try Connection(path: path)
        do {
            try db.migrate(
                [
                    Migration(version: 1, name: "a", sql: Self.first + " -- tweak"),
                    Migration(version: 2, name: "b", sql: Self.second),
                ],
                checksum: Self.checksum)
            Issue.record("an edited migration must be refused")
        } catch {
            #expect(error.code == .migration)
            #expect(error.description.contains("0001_a.sql"))
            #expect(error.description.contains("changed after it was applied"))
        }
        #expect(try db.appliedMigrations().map(\.version) == [1])
        #expect(try db.queryOne("SELECT count(*) FROM sqlite_schema WHERE name = 'b'") { $0.column(0) as Int } == 0)
    }

    @Test("a database whose schema is newer than the newest file is an error naming both versions")
    func newerSchema() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("newer.sqlite3")
        let all = (1...7).map { Migration(version: $0, name: "m\($0)", sql: "CREATE TABLE t\($0) (x INTEGER);") }
        try Connection(path: path).migrate(all, checksum: Self.checksum)
        do {
            try Connection(path: path).migrate(Array(all.prefix(2)), checksum: Self.checksum)
            Issue.record("an older binary must refuse a newer schema")
        } catch {
            #expect(error.code == .migration)
            #expect(error.description.contains("database schema 7 is newer than this binary (latest 0002_m2.sql)"))
        }
    }

    @Test("a migration that fails is rolled back and named; nothing is recorded")
    func failingMigration() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("failing.sqlite3"))
        let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE c (z INTEGER); INSERT INTO missing VALUES (1);")
        do {
            try db.migrate([Migration(version: 1, name: "a", sql: Self.first), broken], checksum: Self.checksum)
            Issue.record("the broken migration must fail")
        } catch {
            #expect(error.code == .migration)
            #expect(error.resultCode == .SQLITE_ERROR)
            #expect(error.description.contains("0002_broken.sql"))
            #expect(error.description.contains("no such table: missing"))
        }
        #expect(try db.appliedMigrations().map(\.version) == [1])
        #expect(try db.queryOne("SELECT count(*) FROM sqlite_schema WHERE name = 'c'") { $0.column(0) as Int } == 0)
    }

    @Test("an applied migration whose file is gone, or a new file older than the schema, is an error")
    func missingAndOutOfOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("gaps.sqlite3")
        let one = Migration(version: 1, name: "a", sql: Self.first)
        let three = Migration(version: 3, name: "c", sql: "CREATE TABLE c (z INTEGER);")
        try Connection(path: path).migrate([one, three], checksum: Self.checksum)
        #expect {
            try Connection(path: path).migrate([three], checksum: Self.checksum)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("0001_a.sql was applied to this database but its file is missing")
                == true
        }
        #expect {
            try Connection(path: path).migrate(
                [one, Migration(version: 2, name: "b", sql: Self.second), three], checksum: Self.checksum)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("0002_b.sql is older than the database's schema 3") == true
        }
        #expect {
            try Connection(path: path).migrate(
                [Migration(version: 1, name: "renamed", sql: Self.first), three], checksum: Self.checksum)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("now named 0001_renamed.sql") == true
        }
    }

    @Test("a badly named .sql file or two files with one version are errors naming the file")
    func badFolder() throws {
        let directory = try TemporaryDirectory()
        let misnamed = try Self.folder(in: directory, ["0001_a.sql": Self.first, "2_b.sql": Self.second])
        #expect {
            try Migration.load(from: misnamed)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("2_b.sql is not named NNNN_name.sql") == true
        }
        let duplicated = try Self.folder(in: directory, ["0001_a.sql": Self.first, "0001_b.sql": Self.second])
        #expect {
            try Migration.load(from: duplicated)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("have the same version 1") == true
        }
    }
}
