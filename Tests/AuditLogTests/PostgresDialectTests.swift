import Foundation
import SQLite
import TestSupport
import Testing

@testable import AuditLog

/// ``PostgresDialect/translate(_:)``: each rewrite rule on its own, then every statement the
/// store sends, collected by running every public operation (``QueryPlanTests/exerciseEveryQuery(_:)``).
@Suite("PostgreSQL dialect")
struct PostgresDialectTests {
    @Test(
        "each rewrite: parameters numbered as SQLite numbers them, ifnull, index hints, json_each; quoted text kept",
        arguments: [
            ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
            ("INSERT INTO t VALUES (1, ?1, ?2, ?2)", "INSERT INTO t VALUES (1, $1, $2, $2)"),
            ("UPDATE t SET a = ?3 WHERE b = ? AND c = ?1", "UPDATE t SET a = $3 WHERE b = $4 AND c = $1"),
            ("SELECT ifnull(a, 0), IFNULL(b, '') FROM t", "SELECT coalesce(a, 0), coalesce(b, '') FROM t"),
            ("SELECT myifnull(a) FROM t", "SELECT myifnull(a) FROM t"),
            (
                "SELECT a FROM changes INDEXED BY changes_due WHERE b = ?",
                "SELECT a FROM changes  WHERE b = $1"
            ),
            ("SELECT a FROM changes NOT INDEXED WHERE b = ?", "SELECT a FROM changes  WHERE b = $1"),
            (
                "SELECT document_id FROM c WHERE document_id IN (SELECT value FROM json_each(?))",
                "SELECT document_id FROM c WHERE document_id IN (SELECT value FROM json_array_elements_text($1::json) AS json_each(value))"
            ),
            (
                "SELECT 'it''s ?, ifnull(x) INDEXED BY y', \"ifnull(\" FROM t WHERE a = ?",
                "SELECT 'it''s ?, ifnull(x) INDEXED BY y', \"ifnull(\" FROM t WHERE a = $1"
            ),
            ("SELECT 1", "SELECT 1"),
        ])
    func rewrite(_ sqlite: String, _ postgres: String) {
        #expect(PostgresDialect.translate(sqlite) == postgres)
    }

    /// `sql` without its quoted strings and identifiers.
    static func outsideQuotes(_ sql: String) -> String {
        sql.replacing(/'[^']*'|"[^"]*"/, with: "''")
    }

    /// What `translate` should make of `sql`, by an independent route (regular expressions, not
    /// the scanner), with every parameter written `?` so the two can be compared.
    static func expected(_ sql: String) -> String {
        sql.replacing(/(?i)\bifnull\(/, with: "coalesce(")
            .replacing(/INDEXED BY [A-Za-z0-9_]+|NOT INDEXED/, with: "")
            .replacing(/json_each\((\?[0-9]*)\)/) { "json_array_elements_text(\($0.output.1)::json) AS json_each(value)" }
            .replacing(/\?[0-9]*/, with: "?")
    }

    @Test("every statement the store sends: same text but for the rewrites, SQLite's parameters, no SQLite-only syntax")
    func everyStatement() async throws {
        let test = try await TestLog()
        let statements = QueryPlanTests.Statements()
        await test.log.observeStatements { statements.insert($0) }
        try await QueryPlanTests.exerciseEveryQuery(test.log)
        let raw = try Connection(path: test.path)
        let queries = statements.all.filter { sql in
            !["BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"].contains { sql.hasPrefix($0) }
        }
        #expect(queries.count > 30)
        for sql in queries.sorted() {
            let translated = PostgresDialect.translate(sql)
            let parameters = try raw.prepare(sql).parameterCount
            let numbers = Set(translated.matches(of: /\$([0-9]+)/).compactMap { Int($0.output.1) })
            #expect(numbers == Set((0..<parameters).map { $0 + 1 }), "parameters \(numbers.sorted()) of \(parameters):\n\(sql)")
            let outside = Self.outsideQuotes(translated)
            for sqliteOnly in ["?", "INDEXED BY", "NOT INDEXED", "json_each(?"] {
                #expect(!outside.contains(sqliteOnly), "\(sqliteOnly) left in:\n\(translated)")
            }
            #expect(!outside.lowercased().contains("ifnull("), "ifnull left in:\n\(translated)")
            #expect(
                translated.replacing(/\$[0-9]+/, with: "?") == Self.expected(sql),
                "more than the rewrites changed:\n\(sql)\n\(translated)")
        }
    }
}

/// The two stores' schemas after every migration: the same tables, columns and indexes, but
/// for the differences named here with their reasons.
@Suite("Store schemas")
struct StoreSchemaTests {
    /// Tables one store has and the other does not: each store's migration bookkeeping;
    /// PostgreSQL's `chain_head` (the newest action's id in a row, where SQLite's AUTOINCREMENT
    /// keeps it). Document claims are in both (PostgreSQL's 0010, SQLite's 0019).
    static let ownTables: [StoreBackend: Set<String>] = [
        .sqlite: ["schema_migrations"], .postgres: ["schema_migrations", "chain_head"],
    ]

    /// Columns one store has and the other does not: SQLite's implicit `rowid` of `messages`,
    /// made an explicit identity column on PostgreSQL.
    static let ownColumns: [StoreBackend: [String: Set<String>]] = [.postgres: ["messages": ["rowid"]]]

    struct Schema: Equatable, CustomStringConvertible {
        /// Columns by table.
        var columns: [String: Set<String>] = [:]
        /// Index names by table (primary keys and unique constraints' own indexes left out).
        var indexes: [String: Set<String>] = [:]

        var description: String {
            columns.keys.sorted().map { table in
                "\(table): \(columns[table]!.sorted().joined(separator: ", ")) | \((indexes[table] ?? []).sorted().joined(separator: ", "))"
            }.joined(separator: "\n")
        }
    }

    static func sqliteSchema(_ path: String) throws -> Schema {
        let db = try Connection(path: path)
        var schema = Schema()
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
            $0.column(0) as String
        }
        for table in tables {
            schema.columns[table] = Set(try db.query("SELECT name FROM pragma_table_info('\(table)')") { $0.column(0) as String })
            schema.indexes[table] = Set(
                try db.query(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name NOT LIKE 'sqlite_autoindex_%'",
                    [table]
                ) { $0.column(0) as String })
        }
        return schema
    }

    static func postgresSchema(_ location: String) async throws -> Schema {
        let server = try await SharedPostgresServer.shared()
        let database = try #require(URL(string: location)).lastPathComponent
        var schema = Schema()
        let columns = try await server.psql(
            "SELECT table_name || ' ' || column_name FROM information_schema.columns WHERE table_schema = 'public'",
            database: database)
        for line in columns.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            schema.columns[parts[0], default: []].insert(parts[1])
        }
        let indexes = try await server.psql(
            """
            SELECT t.relname || ' ' || i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND NOT x.indisprimary
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """, database: database)
        for table in schema.columns.keys { schema.indexes[table] = [] }
        for line in indexes.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            schema.indexes[parts[0], default: []].insert(parts[1])
        }
        return schema
    }

    /// `schema` without the tables only its store has.
    static func shared(_ schema: Schema, _ backend: StoreBackend) -> Schema {
        var schema = schema
        for table in ownTables[backend] ?? [] {
            schema.columns[table] = nil
            schema.indexes[table] = nil
        }
        for (table, columns) in ownColumns[backend] ?? [:] {
            schema.columns[table]?.subtract(columns)
        }
        return schema
    }

    @Test("both stores' migrated schemas have the same tables, columns and indexes")
    func sameSchema() async throws {
        let sqlite = try await TestLog(.sqlite)
        let postgres = try await TestLog(.postgres)
        let lite = try Self.sqliteSchema(sqlite.path)
        let pg = try await Self.postgresSchema(postgres.location)
        for (backend, schema) in [(StoreBackend.sqlite, lite), (.postgres, pg)] {
            for table in Self.ownTables[backend] ?? [] {
                #expect(schema.columns[table] != nil, "\(backend) has no \(table) table")
            }
            for (table, columns) in Self.ownColumns[backend] ?? [:] {
                #expect(schema.columns[table]?.isSuperset(of: columns) == true, "\(backend) \(table) lacks \(columns)")
            }
        }
        let (left, right) = (Self.shared(lite, .sqlite), Self.shared(pg, .postgres))
        #expect(Set(left.columns.keys) == Set(right.columns.keys), "tables differ:\nSQLite\n\(left)\nPostgreSQL\n\(right)")
        for table in Set(left.columns.keys).union(right.columns.keys).sorted() {
            #expect(left.columns[table] == right.columns[table], "columns of \(table) differ")
            #expect(left.indexes[table] == right.indexes[table], "indexes of \(table) differ")
        }
    }
}
