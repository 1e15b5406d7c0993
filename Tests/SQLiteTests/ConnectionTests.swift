import Foundation
import SQLite
import Synchronization
import Testing

@Suite("Connection")
struct ConnectionTests {
    @Test("every storage class round-trips, including NULL, the empty blob, extreme integers and unicode")
    func columnTypesRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("types.sqlite3"))
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n ANY) STRICT")
        let values: [[SQLValue]] = [
            [.integer(Int64.max), .real(-0.000123e-300), .text("héllo wörld 🎸 e\u{301} 中文"), .blob([0, 1, 2, 255]), .null],
            [.integer(Int64.min), .real(Double.greatestFiniteMagnitude), .text(""), .blob([]), .integer(0)],
            [.integer(0), .real(0), .text("nul\u{0}inside"), .blob([UInt8](repeating: 7, count: 100_000)), .text("x")],
            [.null, .null, .null, .null, .null],
        ]
        for row in values {
            try db.run("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", row)
        }
        let read = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid") { row in (0..<5).map { row.value(at: $0) } }
        #expect(read == values)

        let typed = try #require(
            try db.queryOne("SELECT i, r, s, b, n FROM t ORDER BY rowid LIMIT 1") { row in
                (
                    row.column(0) as Int64, row.column(1) as Double, row.column(2) as String, row.column(3) as [UInt8],
                    row.column(4) as String?
                )
            })
        #expect(typed.0 == Int64.max)
        #expect(typed.1 == -0.000123e-300)
        #expect(typed.2 == "héllo wörld 🎸 e\u{301} 中文")
        #expect(typed.3 == [0, 1, 2, 255])
        #expect(typed.4 == nil)

        let emptyBlob = try #require(
            try db.queryOne("SELECT b, typeof(b), s, typeof(s) FROM t WHERE i = ?", [Int64.min]) { row in
                (row.column(0) as Data?, row.column(1) as String, row.column(2) as String?, row.column(3) as String)
            })
        #expect(emptyBlob.0 == Data())
        #expect(emptyBlob.1 == "blob")
        #expect(emptyBlob.2 == "")
        #expect(emptyBlob.3 == "text")

        let bool = try db.queryOne("SELECT ?", [true]) { $0.column(0) as Bool }
        #expect(bool == true)
    }

    @Test("named and positional parameters bind; unknown names and wrong counts are clear errors")
    func parameters() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("params.sqlite3"))
        let statement = try db.prepare("SELECT :a || @b || $c || ?4")
        try statement.bind(["a": "1", "@b": "2", "$c": "3"] as [String: any SQLBindable])
        try statement.bind("4", at: 4)
        #expect(try statement.step())
        #expect(statement.string(at: 0) == "1234")

        #expect(throws: SQLiteError.self) { try statement.bind("x", named: "missing") }
        do {
            try statement.bind("x", named: "missing")
        } catch {
            #expect(error.resultCode == .SQLITE_RANGE)
            #expect(error.description.contains(":missing"))
        }
        do {
            try db.run("SELECT ?, ?", [1])
            Issue.record("a wrong parameter count must fail")
        } catch {
            #expect(error.resultCode == .SQLITE_RANGE)
            #expect(error.description.contains("2 parameters, 1 values given"))
        }
    }

    @Test("a constraint violation carries the extended code, SQLite's message and the SQL, never the bound values")
    func constraintViolation() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("constraint.sqlite3"))
        try db.execute("CREATE TABLE t (x TEXT UNIQUE)")
        try db.run("INSERT INTO t (x) VALUES (?)", ["secret-value"])
        var matchedFamily = false
        do {
            try db.run("INSERT INTO t (x) VALUES (?)", ["secret-value"])
        } catch ResultCode.SQLITE_CONSTRAINT {
            matchedFamily = true
        } catch {
            Issue.record("expected a constraint error, got \(error)")
        }
        #expect(matchedFamily)
        do {
            try db.run("INSERT INTO t (x) VALUES (?)", ["secret-value"])
            Issue.record("a duplicate must fail")
        } catch {
            #expect(error.resultCode == .SQLITE_CONSTRAINT_UNIQUE)
            #expect(error.resultCode?.primaryResultCode.rawValue == 19)
            #expect(error.code == .database)
            #expect(error.message == "UNIQUE constraint failed: t.x")
            #expect(error.sql == "INSERT INTO t (x) VALUES (?)")
            #expect(error.description.contains("SQLITE_CONSTRAINT_UNIQUE"))
            #expect(error.description.contains("INSERT INTO t (x) VALUES (?)"))
            #expect(!error.description.contains("secret-value"))
        }
        #expect(ResultCode.SQLITE_CONSTRAINT ~= ResultCode.SQLITE_CONSTRAINT_FOREIGNKEY)
        #expect(!(ResultCode.SQLITE_CONSTRAINT_UNIQUE ~= ResultCode.SQLITE_CONSTRAINT_FOREIGNKEY))
    }

    @Test("foreign keys are enforced and the journal is WAL")
    func pragmas() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("pragmas.sqlite3"))
        #expect(try db.queryOne("PRAGMA journal_mode") { $0.column(0) as String } == "wal")
        #expect(try db.queryOne("PRAGMA foreign_keys") { $0.column(0) as Int } == 1)
        try db.execute(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));")
        #expect {
            try db.run("INSERT INTO child (parent_id) VALUES (42)")
        } throws: { error in
            (error as? SQLiteError)?.resultCode == .SQLITE_CONSTRAINT_FOREIGNKEY
        }
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactionRollback() throws {
        struct Refusal: Error, Equatable {}
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("transactions.sqlite3"))
        try db.execute("CREATE TABLE t (x INTEGER)")
        let returned = try db.transaction { () throws -> Int in
            try db.run("INSERT INTO t (x) VALUES (1)")
            return 7
        }
        #expect(returned == 7)
        #expect(throws: Refusal()) {
            try db.transaction {
                try db.run("INSERT INTO t (x) VALUES (2)")
                throw Refusal()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try db.query("SELECT x FROM t") { $0.column(0) as Int } == [1])
        try db.transaction(.deferred) { () throws in
            #expect(db.isInTransaction)
            #expect(try db.queryOne("SELECT count(*) FROM t") { $0.column(0) as Int } == 1)
        }
    }

    @Test("a writer waits for another connection's BEGIN IMMEDIATE and succeeds after it commits")
    func contendingWritersWait() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("contention.sqlite3")
        let holder = try Connection(path: path)
        try holder.execute("CREATE TABLE t (x TEXT)")
        try holder.run("BEGIN IMMEDIATE")
        try holder.run("INSERT INTO t (x) VALUES ('first')")
        let holderCommitting = Flag()

        async let waiter: Result<Bool, SQLiteError> = onDedicatedThread {
            Result { () throws(SQLiteError) -> Bool in
                let db = try Connection(path: path, busyTimeout: .seconds(60))
                try db.run("BEGIN IMMEDIATE")
                // The lock can only be had once the holder started committing.
                let sawCommit = holderCommitting.isSet
                try db.run("INSERT INTO t (x) VALUES ('second')")
                try db.run("COMMIT")
                return sawCommit
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        holderCommitting.set()
        try holder.run("COMMIT")

        #expect(try await waiter.get() == true)
        #expect(try holder.query("SELECT x FROM t ORDER BY rowid") { $0.column(0) as String } == ["first", "second"])
    }

    @Test("a writer that cannot get the lock within its busy timeout gets a clear SQLITE_BUSY error")
    func busyTimeoutExceeded() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("busy.sqlite3")
        let holder = try Connection(path: path)
        try holder.execute("CREATE TABLE t (x TEXT)")
        try holder.run("BEGIN IMMEDIATE")
        let result: Result<Void, SQLiteError> = await onDedicatedThread {
            Result { () throws(SQLiteError) in
                let db = try Connection(path: path, busyTimeout: .milliseconds(20))
                try db.run("BEGIN IMMEDIATE")
            }
        }
        try holder.run("COMMIT")
        guard case .failure(let error) = result else {
            Issue.record("BEGIN IMMEDIATE must fail while another connection holds the write lock")
            return
        }
        #expect(ResultCode.SQLITE_BUSY ~= error)
        #expect(error.description.contains("database is locked"))
        #expect(error.description.contains("busy timeout"))
        #expect(error.description.contains("BEGIN IMMEDIATE"))
        #expect(error.description.contains(path))
    }

    @Test("a file that is not a database gives SQLITE_NOTADB naming the file")
    func notADatabase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("notes.sqlite3")
        try Data(String(repeating: "these are my notes, not a database\n", count: 40).utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Connection(path: path)
            Issue.record("opening a text file must fail")
        } catch {
            #expect(error.resultCode == .SQLITE_NOTADB)
            #expect(error.description.contains(path))
            #expect(error.description.contains("not a database"))
        }
    }

    @Test("a directory that does not exist gives SQLITE_CANTOPEN naming the path")
    func cannotOpen() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("missing/sub/db.sqlite3")
        #expect {
            try Connection(path: path)
        } throws: { error in
            let error = error as? SQLiteError
            return error?.resultCode == .SQLITE_CANTOPEN && error?.description.contains(path) == true
        }
    }

    @Test("a new database and its WAL and shared-memory files have mode 0600")
    func fileMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("private.sqlite3")
        let db = try Connection(path: path)
        try db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        for file in [path, path + "-wal", path + "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
    }

    @Test("the statement cache hands back the same statement, reset, and a fresh one for nested use")
    func statementCache() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("cache.sqlite3"))
        try db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);")
        let first = try db.cachedStatement("SELECT x FROM t ORDER BY x")
        #expect(try first.step())
        let nested = try db.cachedStatement("SELECT x FROM t ORDER BY x")
        #expect(nested !== first)
        #expect(try nested.step())
        #expect(nested.int64(at: 0) == 1)
        #expect(try first.step())
        #expect(first.int64(at: 0) == 2)
        #expect(try !first.step())
        let again = try db.cachedStatement("SELECT x FROM t ORDER BY x")
        #expect(again === first)
        #expect(try again.step())
        #expect(again.int64(at: 0) == 1)
    }

    @Test(
        "the statement cache stays bounded when SQL text varies with its arguments, and keeps what is used often and what is being stepped"
    )
    func statementCacheIsBounded() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("bounded.sqlite3"))
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);")
        let frequent = "SELECT count(*) FROM t"
        let cachedFrequent = try db.cachedStatement(frequent)
        let stepping = try db.cachedStatement("SELECT x FROM t ORDER BY x")
        #expect(try stepping.step())
        // An IN list of each length from 1 to 2,000: a new text each time, as a round's documents make.
        for length in 1...2_000 {
            let marks = Array(repeating: "?", count: length).joined(separator: ", ")
            let found = try db.query(
                "SELECT count(*) FROM t WHERE x IN (\(marks))", (1...length).map { Int64($0) }
            ) { $0.column(0) as Int64 }
            #expect(found == [Int64(min(length, 2))])
            _ = try db.query(frequent) { $0.column(0) as Int64 }
            #expect(db.cachedStatementCount <= Connection.statementCacheLimit)
        }
        // The statement used all along is the one cached at first; the one being stepped was kept and steps on.
        #expect(try db.cachedStatement(frequent) === cachedFrequent)
        #expect(try stepping.step())
        #expect(stepping.int64(at: 0) == 2)
    }
    @Test("a script runs statement by statement; a failure names the failing statement")
    func scripts() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("script.sqlite3"))
        try db.execute(
            """
            -- a comment
            CREATE TABLE a (x INTEGER);
            INSERT INTO a VALUES (1); /* trailing comment */
            """)
        #expect(try db.queryOne("SELECT count(*) FROM a") { $0.column(0) as Int } == 1)
        do {
            try db.execute("INSERT INTO a VALUES (2); INSERT INTO nowhere VALUES (3);")
            Issue.record("the script must fail")
        } catch {
            #expect(error.sql == "INSERT INTO nowhere VALUES (3);")
            #expect(error.message == "no such table: nowhere")
        }
        #expect {
            try db.prepare("SELECT 1; SELECT 2")
        } throws: { error in
            (error as? SQLiteError)?.resultCode == .SQLITE_MISUSE
        }
        _ = try db.prepare("SELECT 1; -- only a comment follows")
    }

    @Test("the statement trace reports SQL text without bound values")
    func trace() throws {
        let directory = try TemporaryDirectory()
        let db = try Connection(path: directory.path("trace.sqlite3"))
        var seen: [String] = []
        db.traceStatements { seen.append($0) }
        try db.run("SELECT ?", ["hidden"])
        db.traceStatements(nil)
        try db.run("SELECT 2")
        #expect(seen == ["SELECT ?"])
    }
}

/// A flag shared between a test and a thread.
private final class Flag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }

    func set() { value.withLock { $0 = true } }
}
