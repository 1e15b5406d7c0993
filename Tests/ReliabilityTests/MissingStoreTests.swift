import Foundation
import StreamModel
import TestSupport
import Testing

/// A mistyped `--db` never leaves a new, empty store behind: only the commands that write
/// (`ingest`, `run`, `serve`, `migrate-store`) create a store; every other command refuses a
/// missing one with exit 2 naming it. A file that is not a store keeps its mode.
@Suite("missing store")
struct MissingStoreTests {
    /// Commands that read (or act on existing changes), each without its `--db`.
    static let readers: [[String]] = [
        ["stats"], ["list"], ["show", "1"], ["history", "42"], ["errors"], ["audit"], ["verify"], ["quarantined"],
        ["batches"], ["skip", "1", "--reason", "typo"], ["skip-batch", "1", "--reason", "typo"],
    ]

    static func environment(_ home: URL) -> [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home.path]
    }

    @Test("a read command given a missing SQLite path exits 2 naming it and creates nothing", arguments: readers)
    func missingFile(_ command: [String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("typo.sqlite3").path
        let output = try await CommandRunner.run(
            ReprocessorExecutable.path, command + ["--db", path], environment: Self.environment(directory))
        #expect(!output.killedBySignal && output.status == 2, "\(command): \(output)")
        #expect(output.stderr.contains(path), "\(command): \(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "\(command) created a file")
    }

    @Test("a text file given as the store is refused and keeps its mode and bytes")
    func textFileKeepsItsMode() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("notes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let notes = directory.appendingPathComponent("notes.txt").path
        let text = Data("remember the milk\n".utf8)
        #expect(FileManager.default.createFile(atPath: notes, contents: text, attributes: [.posixPermissions: 0o644]))
        for command in [["stats"], ["ingest", "--wait", "0"]] {
            let output = try await CommandRunner.run(
                ReprocessorExecutable.path, command + ["--db", notes], environment: Self.environment(directory))
            #expect(!output.killedBySignal && output.status != 0, "\(command): \(output)")
            let mode = try FileManager.default.attributesOfItem(atPath: notes)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o644, "\(command) changed the mode of a file that is not a store")
            #expect(try Data(contentsOf: URL(fileURLWithPath: notes)) == text)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["notes.txt"])
        }
    }

    @Test("a read command given an empty PostgreSQL database exits 2 and creates no table in it")
    func emptyPostgresDatabase() async throws {
        let server = try await SharedPostgresServer.shared()
        let url = try await SharedPostgresServer.newDatabase()
        let database = try #require(URL(string: url)?.path.split(separator: "/").last.map(String.init))
        let home = FileManager.default.temporaryDirectory
        for command in [["stats"], ["verify"]] {
            let output = try await CommandRunner.run(
                ReprocessorExecutable.path, command + ["--db", url], environment: Self.environment(home))
            #expect(!output.killedBySignal && output.status == 2, "\(command): \(output)")
            #expect(output.stderr.contains("no audit store"), "\(command): \(output)")
            #expect(!output.stderr.contains(server.password), "the password was printed")
        }
        let tables = try await server.psql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", database: database)
        #expect(tables == "0", "a read command created tables")
    }
}
