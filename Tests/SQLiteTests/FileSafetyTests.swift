import Foundation
import SQLite
import Testing

/// The database file stays private whatever state it is found in: mode 0600 for an existing
/// file and its `-wal`/`-shm` files too, and a symbolic link is refused rather than followed.
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
}
