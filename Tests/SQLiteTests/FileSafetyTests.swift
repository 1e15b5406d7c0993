import Foundation
import SQLite
import Testing

/// The database file stays private whatever state it is found in: mode 0600 for an existing
/// file and its `-wal`/`-shm` files too, and a symbolic link is refused rather than followed. A
/// file is never created where it may not be, and a file's mode is changed only once it is
/// recognised as a database the caller accepts.
@Suite("Database file safety")
struct FileSafetyTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("an existing database with a looser mode, and its -wal and -shm files, are made 0600 at open")
    func existingFileMadePrivate() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("loose.sqlite3")
        do {
            let db = try Connection(path: path)
            try db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        }
        FileManager.default.createFile(atPath: path + "-wal", contents: nil)
        FileManager.default.createFile(atPath: path + "-shm", contents: nil)
        for file in [path, path + "-wal", path + "-shm"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        let db = try Connection(path: path)
        #expect(try db.queryOne("SELECT x FROM t") { $0.column(0) as Int64 } == 1)
        try db.execute("INSERT INTO t VALUES (2)")
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try Self.mode(file) == 0o600, "\(file)")
        }
    }

    @Test("a database path that is a symbolic link is refused, not followed")
    func symlinkRefused() throws {
        let directory = try TemporaryDirectory()
        let target = directory.path("real.sqlite3")
        _ = try Connection(path: target)
        let link = directory.path("link.sqlite3")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect {
            try Connection(path: link)
        } throws: { error in
            let error = error as? SQLiteError
            return error?.resultCode == .SQLITE_CANTOPEN && error?.description.contains("is a symbolic link") == true
        }
        // A dangling link is not followed to create a file either.
        let dangling = directory.path("dangling.sqlite3")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: directory.path("elsewhere"))
        #expect(throws: SQLiteError.self) { try Connection(path: dangling) }
        #expect(!FileManager.default.fileExists(atPath: directory.path("elsewhere")))
    }

    @Test("a -wal file that is a symbolic link is refused")
    func walSymlinkRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("db.sqlite3")
        _ = try Connection(path: path)
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try FileManager.default.createSymbolicLink(atPath: path + "-wal", withDestinationPath: directory.path("stolen-wal"))
        #expect {
            try Connection(path: path)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("db.sqlite3-wal is a symbolic link") == true
        }
    }

    @Test("a path that is not a regular file is refused")
    func notRegularFile() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.path("fifo.sqlite3")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect {
            try Connection(path: fifo)
        } throws: { error in
            (error as? SQLiteError)?.description.contains("is not a regular file") == true
        }
    }

    @Test("a missing file is refused, not created, when the connection may not create one")
    func missingNotCreated() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("typo.sqlite3")
        #expect {
            try Connection(path: path, accepting: .migrated(creating: false))
        } throws: { error in
            let error = error as? SQLiteError
            return error?.code == .missing && error?.description.contains(path) == true
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        _ = try Connection(path: path, accepting: .migrated(creating: true))
        #expect(try Self.mode(path) == 0o600, "a created file is private")
    }

    @Test("a file that is not a database, or not one with a migration history, is refused and keeps its mode and bytes")
    func foreignFileKeepsItsMode() throws {
        let directory = try TemporaryDirectory()
        let notes = directory.path("notes.txt")
        let text = Data("shopping: milk, eggs\n".utf8)
        #expect(FileManager.default.createFile(atPath: notes, contents: text, attributes: [.posixPermissions: 0o644]))
        for acceptance in [Connection.Acceptance.anyDatabase, .migrated(creating: true), .migrated(creating: false)] {
            #expect {
                try Connection(path: notes, accepting: acceptance)
            } throws: { error in
                (error as? SQLiteError)?.resultCode == .SQLITE_NOTADB
            }
            #expect(try Self.mode(notes) == 0o644, "\(acceptance)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: notes)) == text)
        }

        // Another program's database: a SQLite file with tables but no schema_migrations.
        let other = directory.path("other.sqlite3")
        do {
            let db = try Connection(path: other)
            try db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: other)
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        for creating in [true, false] {
            #expect {
                try Connection(path: other, accepting: .migrated(creating: creating))
            } throws: { error in
                (error as? SQLiteError)?.code == .foreign
            }
            #expect(try Self.mode(other) == 0o644)
            #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == before)
        }

        // An empty file is a new database only where one may be created.
        let empty = directory.path("empty.sqlite3")
        #expect(FileManager.default.createFile(atPath: empty, contents: nil, attributes: [.posixPermissions: 0o644]))
        #expect(throws: SQLiteError.self) { try Connection(path: empty, accepting: .migrated(creating: false)) }
        #expect(try Self.mode(empty) == 0o644)
        _ = try Connection(path: empty, accepting: .migrated(creating: true))
        #expect(try Self.mode(empty) == 0o600)
    }

    @Test("a database with a migration history and a looser mode is accepted and made 0600")
    func migratedMadePrivate() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite3")
        try Connection(path: path).migrate(
            [Migration(version: 1, name: "t", sql: "CREATE TABLE t (x INTEGER)")], checksum: { String($0.count) })
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        _ = try Connection(path: path, accepting: .migrated(creating: false))
        #expect(try Self.mode(path) == 0o600)
    }
}
