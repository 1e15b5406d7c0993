import Foundation
import PostgresNIO
import PropertyBased
import SQLite
import TestSupport
import Testing

@testable import PostgresStore

/// ``PostgresSession/copy(into:columns:rows:inTransaction:)``: rows sent by `COPY … FROM STDIN`
/// to a real PostgreSQL read back equal, inside and outside transactions, and a COPY the server
/// refuses takes its transaction down with it and leaves the session usable.
@Suite("PostgreSQL COPY")
struct PostgresCopyTests {
    /// The tables the tests copy into.
    static let tables = """
        CREATE TABLE copied (
            batch BIGINT NOT NULL, position BIGINT NOT NULL, t TEXT, b BYTEA, n BIGINT, r DOUBLE PRECISION,
            PRIMARY KEY (batch, position)
        );
        CREATE TABLE parents (id BIGINT PRIMARY KEY);
        CREATE TABLE children (
            id BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES parents (id),
            label TEXT NOT NULL CHECK (label <> 'refused')
        );
        """

    static func open() async throws -> (PostgresSession, database: String) {
        let url = try await SharedPostgresServer.newDatabase()
        let session = try await PostgresSession.open(
            PostgresURL(url), migrations: [Migration(version: 1, name: "copy_tables", sql: tables)],
            checksum: { String($0.utf8.count) })
        return (session, try #require(URL(string: url)).lastPathComponent)
    }

    /// Runs `body` on a thread of its own, as the audit log uses its session: a COPY blocks its
    /// thread on a task of the cooperative pool, so it must not run on one of the pool's threads.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// The error `body` threw, which must be a ``PostgresStoreError``.
    static func failure(_ body: () throws -> Void) throws -> PostgresStoreError {
        do {
            try body()
        } catch let error as PostgresStoreError {
            return error
        }
        throw CopyTestFailure(description: "no error was thrown")
    }

    struct CopyTestFailure: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: Encoding

    @Test("the text format: tab between columns, newline after a row, \\N for NULL, the four escapes, bytea's hex")
    func encoding() {
        let rows: [SQLValue] = [
            .text("a\tb\\c\nd\re"), .null, .blob([0x00, 0xAB, 0xFF]), .integer(-42),
            .text("\\N"), .real(1.5), .blob([]), .real(.infinity),
        ]
        let text = String(buffer: PostgresSession.copyText(rows, columns: 4))
        #expect(text == "a\\tb\\\\c\\nd\\re\t\\N\t\\\\x00abff\t-42\n\\\\N\t1.5\t\\\\x\t\\N\n")
    }

    // MARK: Round trips through a real server

    /// Pieces that mean something to COPY's text format, to SQL or to JSON, and other Unicode.
    static let pieces = [
        "\\", "\t", "\n", "\r", "\\N", "\\.", "\\x", "\\t", "N", ".", "\u{B}", "\u{C}", "\u{8}", "\u{7F}", "'", "\"", ",",
        "|", " ", "é", "\u{301}", "🎸", "\u{FEFF}", "\u{10FFFF}", "null", "\r\n",
    ]

    /// Any Unicode scalar but U+0000 (which PostgreSQL's text cannot hold; see ``nulIsRefused()``).
    static let anyScalar = Gen<UInt32>.value(in: 1...0x10FFFF).compactMap { Unicode.Scalar($0).map(Character.init) }

    /// Text of special pieces, or of arbitrary characters.
    static let anyText = Gen.oneOf(
        Gen<String?>.element(of: pieces).map { $0 ?? "" }.array(of: 0...12).map { $0.joined() },
        anyScalar.string(of: 0...40))

    /// Any byte string, empty included.
    static let anyBlob = Gen<UInt8>.value(in: 0...255).array(of: 0...40)

    /// Every finite double: subnormals, ±0, huge and tiny (NaN, never equal to itself, and the infinities,
    /// which a COPY stores as NULL, are left out).
    static let anyReal = Gen<UInt64>.value(in: 0...UInt64.max).map { Double(bitPattern: $0) }.filter(\.isFinite)

    /// A row: its text, blob, integer and real, and which of them are NULL (a bit each).
    static let anyRow = zip(anyText, anyBlob, Gen<Int64>.value(in: .min ... .max), anyReal, Gen<UInt8>.value(in: 0...15))

    @Test("arbitrary text, blobs, integers, reals and NULLs go in by COPY and read back equal")
    func roundTrip() async throws {
        let (session, _) = try await Self.open()
        defer { session.close() }
        var batch: Int64 = 0
        await propertyCheck(count: 150, input: Self.anyRow.array(of: 1...12)) { rows in
            batch += 1
            var values: [SQLValue] = []
            for (position, row) in rows.enumerated() {
                let (text, blob, integer, real, nulls) = row
                values += [
                    .integer(batch), .integer(Int64(position)),
                    nulls & 1 == 0 ? .text(text) : .null, nulls & 2 == 0 ? .blob(blob) : .null,
                    nulls & 4 == 0 ? .integer(integer) : .null, nulls & 8 == 0 ? .real(real) : .null,
                ]
            }
            let copied = values
            let key = batch
            // Recorded, not thrown: propertyCheck drops what its body throws (`try?`), so a COPY
            // the server refused would pass.
            do {
                let readBack = try await Self.onOwnThread {
                    try session.copy(
                        into: "copied", columns: ["batch", "position", "t", "b", "n", "r"], rows: copied, inTransaction: false)
                    return try session.run(
                        "SELECT batch, position, t, b, n, r FROM copied WHERE batch = $1 ORDER BY position", [.integer(key)],
                        inTransaction: false
                    ).rows.flatMap(\.values)
                }
                #expect(readBack == values)
            } catch {
                Issue.record(error, "batch \(key)")
            }
        }
    }

    @Test("one COPY of a thousand rows of kilobytes (an ingest's images) reads back whole, counted as one statement")
    func largeCopy() async throws {
        let (session, _) = try await Self.open()
        defer { session.close() }
        let image = String(repeating: #"{"name":{"S":"Tab\there, new\nline, back\\slash"},"#, count: 60)
        let values = (0..<1000).flatMap { (row: Int) -> [SQLValue] in
            [.integer(1), .integer(Int64(row)), .text(image + String(row)), .null, .integer(Int64(row)), .null]
        }
        let before = session.roundTrips
        let readBack = try await Self.onOwnThread {
            try session.copy(
                into: "copied", columns: ["batch", "position", "t", "b", "n", "r"], rows: values, inTransaction: false)
            return try session.run("SELECT batch, position, t, b, n, r FROM copied ORDER BY position", inTransaction: false)
                .rows.flatMap(\.values)
        }
        #expect(readBack == values)
        #expect(session.roundTrips == before + 2, "the COPY and the SELECT")
        #expect(session.times.statements > .zero && session.times.binding > .zero)
    }

    // MARK: Transactions

    @Test("a COPY inside a transaction commits with it and only with it: rolled back, nothing stays")
    func insideATransaction() async throws {
        let (session, database) = try await Self.open()
        defer { session.close() }
        let server = try await SharedPostgresServer.shared()
        let rows: [SQLValue] = [.integer(1), .integer(2), .integer(3)]
        try await Self.onOwnThread {
            _ = try session.run("BEGIN", inTransaction: false)
            try session.copy(into: "parents", columns: ["id"], rows: rows, inTransaction: true)
        }
        // Not committed by the COPY: another connection does not see the rows.
        #expect(try await server.psql("SELECT count(*) FROM parents", database: database) == "0")
        let inside = try await Self.onOwnThread {
            let count = try session.run("SELECT count(*) FROM parents", inTransaction: true).rows[0].int64(at: 0)
            _ = try session.run("ROLLBACK", inTransaction: true)
            return count
        }
        #expect(inside == 3)
        #expect(try await server.psql("SELECT count(*) FROM parents", database: database) == "0")

        try await Self.onOwnThread {
            _ = try session.run("BEGIN", inTransaction: false)
            try session.copy(into: "parents", columns: ["id"], rows: rows, inTransaction: true)
            _ = try session.run("COMMIT", inTransaction: true)
        }
        #expect(try await server.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM parents", database: database) == "1,2,3")
    }

    @Test(
        "a row the server refuses mid-COPY (CHECK, foreign key) aborts the whole transaction, earlier statements too, and the session goes on",
        arguments: [
            ("CHECK", [SQLValue.integer(12), .integer(1), .text("refused")], "23514"),
            ("foreign key", [SQLValue.integer(12), .integer(99), .text("orphan")], "23503"),
        ])
    func refusedRowRollsBack(_ kind: String, _ badRow: [SQLValue], _ sqlState: String) async throws {
        let (session, database) = try await Self.open()
        defer { session.close() }
        let server = try await SharedPostgresServer.shared()
        // 20 good rows, the bad one, 20 more: the refusal comes in the middle of the data.
        let good = { (id: Int64) -> [SQLValue] in [.integer(id), .integer(1), .text("child \(id)")] }
        let rows = (0..<12).flatMap(good) + badRow + (13..<33).flatMap(good)
        let (error, afterwards) = try await Self.onOwnThread {
            _ = try session.run("BEGIN", inTransaction: false)
            _ = try session.run("INSERT INTO parents (id) VALUES (1)", inTransaction: true)
            let error = try Self.failure {
                try session.copy(into: "children", columns: ["id", "parent", "label"], rows: rows, inTransaction: true)
            }
            // The transaction is aborted, as after any failed statement: the next is refused until ROLLBACK.
            let afterwards = try Self.failure { _ = try session.run("SELECT 1", inTransaction: true) }
            _ = try session.run("ROLLBACK", inTransaction: true)
            return (error, afterwards)
        }
        #expect(error.code == .statement, "\(kind): \(error)")
        #expect(error.sqlState == sqlState, "\(kind): \(error)")
        #expect(error.message.contains("COPY into children failed"), "\(error)")
        #expect(afterwards.sqlState == "25P02", "\(afterwards)")
        #expect(try await server.psql("SELECT count(*) FROM parents", database: database) == "0")
        #expect(try await server.psql("SELECT count(*) FROM children", database: database) == "0")

        // The same session, the same connection, works on: the good rows go in.
        let goodRows = (0..<12).flatMap(good) + (13..<33).flatMap(good)
        try await Self.onOwnThread {
            _ = try session.run("INSERT INTO parents (id) VALUES (1)", inTransaction: false)
            try session.copy(into: "children", columns: ["id", "parent", "label"], rows: goodRows, inTransaction: false)
        }
        #expect(try await server.psql("SELECT count(*) FROM children", database: database) == "32")
    }

    @Test("text holding U+0000, which PostgreSQL cannot store, fails the COPY (SQLSTATE 22021) and nothing else")
    func nulIsRefused() async throws {
        let (session, database) = try await Self.open()
        defer { session.close() }
        let server = try await SharedPostgresServer.shared()
        let error = try await Self.onOwnThread {
            try Self.failure {
                try session.copy(
                    into: "copied", columns: ["batch", "position", "t"],
                    rows: [.integer(1), .integer(0), .text("fine"), .integer(1), .integer(1), .text("a\u{0}b")],
                    inTransaction: false)
            }
        }
        #expect(error.code == .statement && error.sqlState == "22021", "\(error)")
        #expect(try await server.psql("SELECT count(*) FROM copied", database: database) == "0")
        let after = try await Self.onOwnThread {
            try session.run("SELECT 6 * 7", inTransaction: false).rows[0].int64(at: 0)
        }
        #expect(after == 42)
    }
}
