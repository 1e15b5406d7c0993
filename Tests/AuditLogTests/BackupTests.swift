import Foundation
import SQLite
import Synchronization
import Testing

@testable import AuditLog

/// Online backups of a SQLite store (issue 30): a copy under a concurrent writer is one consistent
/// snapshot that verifies, with the head the store had at the copy's moment; restore refuses a held
/// store and replaces a free one; read-only opens answer from files they may not change.
@Suite("Backups")
struct BackupTests {
    static let key = try! AuditChainKey(text: String(repeating: "b4ckup-", count: 8))

    /// A keyed store with `count` changes ingested, one message each.
    static func store(_ count: Int, in directory: TemporaryDirectory) async throws -> (path: String, log: AuditLog) {
        let path = directory.path("audit.sqlite3")
        let log = try AuditLog(path: path, chainKey: key)
        for start in stride(from: 1, through: count, by: 50) {
            let messages = (start..<min(start + 50, count + 1)).map { Fixture.message("m-\($0)", [Fixture.change($0)]) }
            _ = try await log.ingest(messages, at: Fixture.t0)
        }
        return (path, log)
    }

    @Test("copies taken while another connection keeps writing each verify, at the head of their moment")
    func backupUnderConcurrentWriter() async throws {
        let directory = try TemporaryDirectory()
        let (path, log) = try await Self.store(400, in: directory)
        // A writer of its own (another connection, as serve's would be) that never stops until told.
        let writer = try AuditLog(path: path, chainKey: Self.key)
        let stop = Atomic(false)
        let written = Atomic(0)
        let writing = Task {
            var n = 10_000
            while !stop.load(ordering: .relaxed) {
                n += 1
                _ = try await writer.ingest([Fixture.message("w-\(n)", [Fixture.change(n)])], at: Fixture.t0)
                written.add(1, ordering: .relaxed)
            }
        }
        // Few pages a step, so that the writer commits between the steps of every copy.
        let backups = StoreBackup(storePath: path, chainKey: Self.key, pagesPerStep: 2)
        var reports: [BackupReport] = []
        for index in 0..<6 {
            let before = written.load(ordering: .relaxed)
            // Each copy starts after the writer made progress since the last one.
            while written.load(ordering: .relaxed) == before { await Task.yield() }
            reports.append(try await backups.copy(to: directory.path("copy-\(index).sqlite3")))
        }
        let writtenDuringCopies = written.load(ordering: .relaxed)
        stop.store(true, ordering: .relaxed)
        try await writing.value
        #expect(writtenDuringCopies >= 6)
        for pair in zip(reports, reports.dropFirst()) {
            #expect(pair.0.head.count < pair.1.head.count, "every copy is a later snapshot: \(reports.map(\.head.count))")
        }
        for report in reports {
            var status = stat()
            #expect(lstat(report.path, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600)
            #expect(report.bytes == Int64(status.st_size))
            let copy = try AuditLog(path: report.path, chainKey: Self.key, creating: false, readOnly: true)
            let verified = try await copy.verify(expectedHead: report.head)
            #expect(verified.isIntact, "\(verified)")
            #expect(verified.head == report.head)
        }
        // Nothing else is left in the folder: no temporary names, no journals.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(names.allSatisfy { !$0.hasPrefix(".") }, "\(names)")
        #expect(try await log.verify().isIntact)
    }

    @Test("a backup refuses a destination that exists and a PostgreSQL store, changing nothing")
    func refusals() async throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try await Self.store(3, in: directory)
        let taken = directory.path("taken.sqlite3")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: taken))
        await #expect(throws: AuditLogError.self) {
            try await StoreBackup(storePath: path, chainKey: Self.key).copy(to: taken)
        }
        #expect(try String(contentsOfFile: taken, encoding: .utf8) == "keep me")
        let refusal = StoreBackup.refusal(for: "postgres://audit@db.internal:5432/audit")
        #expect(refusal?.contains("pg_dump") == true)
        #expect(StoreBackup.refusal(for: path) == nil)
    }

    @Test("a copy whose chain does not verify is not reported as a backup, and no file is left")
    func unverifiableCopyIsRemoved() async throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try await Self.store(5, in: directory)
        // Without the key a keyed chain cannot be verified: the copy must not stand.
        let destination = directory.path("copy.sqlite3")
        await #expect(throws: AuditLogError.self) {
            try await StoreBackup(storePath: path, chainKey: nil).copy(to: destination)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!names.contains { $0.contains("copy.sqlite3") }, "\(names)")
    }

    @Test("restore refuses a store whose run lease is held, and names the holder")
    func restoreRefusesHeldStore() async throws {
        let directory = try TemporaryDirectory()
        let (path, log) = try await Self.store(5, in: directory)
        let backup = try await StoreBackup(storePath: path, chainKey: Self.key).copy(to: directory.path("b.sqlite3"))
        _ = try await Fixture.ingestOne(log, 99)
        // The run lease as RunLease holds it: the row names the holder, the kernel lock is taken.
        _ = try await log.takeLease(
            name: AuditLog.runLeaseName, holder: "host:42/serve", ttl: .seconds(60), lockHeld: true, now: Date())
        let lock = open(path + ".lease", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(lock) }
        // flock locks belong to the open file description: this one conflicts with restore's own.
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        let before = try await log.head()
        do {
            _ = try await StoreBackup.restore(from: backup.path, to: path, chainKey: Self.key)
            Issue.record("restore went ahead over a held store")
        } catch {
            #expect(error.code == .leaseHeld)
            #expect(error.description.contains("host:42/serve"), "\(error)")
        }
        #expect(try await log.head() == before)
    }

    @Test("restore refuses a store another process has open")
    func restoreRefusesOpenStore() async throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try await Self.store(5, in: directory)
        let backup = try await StoreBackup(storePath: path, chainKey: Self.key).copy(to: directory.path("b.sqlite3"))
        // The open connection is in this process; SQLite's shared-memory locks are per process, so a
        // child holds the store open the way another serve would.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = [
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('select count(*) from actions').fetchall(); print('open', flush=True); sys.stdin.read()",
            path,
        ]
        let output = Pipe()
        let input = Pipe()
        child.standardOutput = output
        child.standardInput = input
        try child.run()
        defer {
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        // Wait until the child says it has the store open.
        _ = output.fileHandleForReading.availableData
        do {
            _ = try await StoreBackup.restore(from: backup.path, to: path, chainKey: Self.key)
            Issue.record("restore went ahead over an open store")
        } catch {
            #expect(error.code == .leaseHeld)
            #expect(error.description.contains("process \(child.processIdentifier)"), "\(error)")
        }
    }

    @Test("restore replaces a free store with the backup, keeps the replaced one aside, and says its head")
    func restoreReplaces() async throws {
        let directory = try TemporaryDirectory()
        let path: String
        let backup: BackupReport
        let later: ChainHead
        do {
            // The store's connection is closed at the end of this scope, as a stopped serve's is.
            let (storePath, log) = try await Self.store(5, in: directory)
            path = storePath
            backup = try await StoreBackup(storePath: path, chainKey: Self.key).copy(to: directory.path("b.sqlite3"))
            _ = try await Fixture.ingestOne(log, 98)
            _ = try await Fixture.ingestOne(log, 99)
            later = try await log.head()
        }
        let report = try await StoreBackup.restore(from: backup.path, to: path, chainKey: Self.key)
        #expect(report.head == backup.head)
        #expect(report.replacedHead == later)
        let keptAs = try #require(report.keptAs)
        #expect(FileManager.default.fileExists(atPath: keptAs))
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let restored = try AuditLog(path: path, chainKey: Self.key, creating: false)
        let verified = try await restored.verify(expectedHead: backup.head)
        #expect(verified.isIntact, "\(verified)")
        #expect(verified.head == backup.head)
        var status = stat()
        #expect(lstat(path, &status) == 0 && status.st_mode & 0o777 == 0o600)
        // The replaced store still reads, with the actions the restore lost.
        let aside = try AuditLog(path: keptAs, chainKey: Self.key, creating: false, readOnly: true)
        #expect(try await aside.head() == later)
    }

    @Test("a read-only open changes nothing: no migration, no anchor, and writes fail")
    func readOnlyOpen() async throws {
        let directory = try TemporaryDirectory()
        let (path, log) = try await Self.store(3, in: directory)
        let head = try await log.head()
        let reader = try AuditLog(path: path, chainKey: Self.key, creating: false, readOnly: true)
        #expect(try await reader.head() == head)
        await #expect(throws: AuditLogError.self) { try await Fixture.ingestOne(reader, 50) }
        #expect(try await log.head() == head)
        // A missing file is not created.
        #expect(throws: AuditLogError.self) {
            try AuditLog(path: directory.path("missing.sqlite3"), creating: true, readOnly: true)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path("missing.sqlite3")))
    }

    @Test("a read-only open of a store not fully migrated yet migrates it, as any open did")
    func readOnlyOpenMigratesOldStore() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.sqlite3")
        let all = try AuditLog.migrations(EmbeddedMigrations.sqlite, from: "migrations").sorted { $0.version < $1.version }
        do {
            let connection = try Connection(path: path)
            try connection.migrate(Array(all.prefix(3)), checksum: ActionChain.migrationChecksum)
        }
        let log = try AuditLog(path: path, creating: false, readOnly: true)
        #expect(try await log.head().count == 0)
        #expect(try Connection(path: path).appliedMigrations().count == all.count)
    }
}
