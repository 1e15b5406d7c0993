import Foundation
import SQLite
import Testing

@testable import AuditLog

/// `migrations/` is the schema's only source; the binary carries a copy (generated at build time
/// by `scripts/embed-migrations.sh`) so that it needs no resource folder. The copy must be the
/// folder, byte for byte: the recorded checksums are of these bytes.
@Suite("embedded migrations")
struct EmbeddedMigrationsTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations")

    @Test("the migrations built into the binary are migrations/ and migrations/postgres/, byte for byte")
    func embeddedCopyIsTheFolder() throws {
        let pairs = [
            (EmbeddedMigrations.sqlite, Self.folder),
            (EmbeddedMigrations.postgres, Self.folder.appendingPathComponent("postgres")),
        ]
        for (embedded, folder) in pairs {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
            #expect(!files.isEmpty)
            #expect(embedded.map(\.fileName).sorted() == files, "\(folder.path)")
            for (name, sql) in embedded {
                let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
                #expect(Data(sql.utf8) == bytes, "\(name) in the binary differs from \(folder.path)/\(name)")
            }
            #expect(
                try AuditLog.migrations(embedded, from: folder.path) == Migration.load(from: folder),
                "the store applies what the folder holds")
        }
    }

    @Test("the generator keeps any text exactly: no final line break, quotes, backslashes, interpolation look-alikes")
    func generatorKeepsText() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("embed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("postgres"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let texts = [
            "0001_a.sql": "SELECT 1;\n",
            "0002_b.sql": #"SELECT '\n', "x", '"""', '\(x)', $$ $$;"# + "\n\n",
            "0003_c.sql": "no final line break",
        ]
        for (name, text) in texts {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        }
        try Data("".utf8).write(to: directory.appendingPathComponent("postgres/0001_empty.sql"))
        let output = directory.appendingPathComponent("Embedded.swift")
        let script = Self.folder.deletingLastPathComponent().appendingPathComponent("scripts/embed-migrations.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path, directory.path, output.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let source = try String(contentsOf: output, encoding: .utf8)
        // Each file's text sits between its opening line and the closing delimiter, plus the one
        // line break a multi-line literal drops before its delimiter.
        for (name, text) in texts {
            #expect(source.contains("(\"\(name)\", ####\"\"\"\n" + text + "\n\"\"\"####)"), "\(name)")
        }
        #expect(source.contains("(\"0001_empty.sql\", ####\"\"\"\n\n\"\"\"####)"))
    }
}
