import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// The backup commands run as a process against real moto and osmem (issue 30): the restore drill
/// end to end, a backup on a full disk, and read commands that answer from a store they cannot write.
@Suite("Backup and restore drill")
struct BackupDrillTests {
    @Test("backup, more changes ingested (their DLQ messages deleted), restore: what is lost, and reconcile brings search back")
    func restoreDrill() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let records = try await world.streamRecords()
        #expect(records.count == 6)
        try await world.send([world.forwardedBody(records.prefix(3).map(\.record))])
        let first = try await world.cli("run", "--once")
        #expect(first.status == 0, "\(first)")

        let backupPath = world.directory.appendingPathComponent("backups/before.sqlite3").path
        try FileManager.default.createDirectory(
            atPath: (backupPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let (backup, backupJSON) = try await world.cliJSON("backup", "--to", backupPath)
        #expect(backup.status == 0, "\(backup)")
        #expect(backupJSON?["path"]?.stringValue == backupPath)
        #expect((backupJSON?["bytes"]?.intValue ?? 0) > 0)
        #expect(backupJSON?["durationSeconds"] != nil)
        let backupHead = try #require(backupJSON?["head"]?["count"]?.intValue)

        // After the backup: three more changes stored (and their DLQ messages deleted), not yet replayed.
        try await world.send([world.forwardedBody(records.suffix(3).map(\.record))])
        let ingest = try await world.cli("ingest")
        #expect(ingest.status == 0, "\(ingest)")
        #expect(try await world.queueDepth() == 0)
        let (_, beforeRestore) = try await world.cliJSON("list", "--limit", "100")
        #expect(beforeRestore?["changes"]?.arrayValue?.count == 6)

        let restore = try await world.cli("restore", "--from", backupPath)
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.stdout.contains("not in the restored store: actions \(backupHead + 1)–"), "\(restore.stdout)")
        #expect(restore.stdout.contains("reconcile"), "\(restore.stdout)")

        // What the restore lost: the three changes stored after the backup, whose messages are gone from SQS.
        let (_, afterRestore) = try await world.cliJSON("list", "--limit", "100")
        let kept = afterRestore?["changes"]?.arrayValue ?? []
        #expect(kept.count == 3)
        #expect(Set(kept.compactMap { $0["documentId"]?.stringValue }) == ["1", "2", "3"])
        #expect(try await world.queueDepth() == 0, "nothing left on the queue to recover them from")
        let verify = try await world.cli("verify")
        #expect(verify.status == 0, "the restored store verifies: \(verify)")
        // The replaced store is kept beside it, with the changes the restore lost.
        let asideFiles = try FileManager.default.contentsOfDirectory(atPath: world.directory.path)
            .filter { $0.hasPrefix("audit.sqlite3.replaced-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(asideFiles.count == 1, "\(asideFiles)")

        // Search lacks what the lost changes carried; reconcile finds it and repairs it from the table.
        for id in 4...6 { #expect(try await world.liveDocument("\(id)") == nil) }
        let drift = try await world.cli("reconcile", "--json")
        #expect(drift.status == 3, "\(drift)")
        #expect((try? JSONValue(parsing: drift.stdout))?["missing"]?.intValue == 3)
        let repair = try await world.cli("reconcile", "--repair", "--reason", "restore drill")
        #expect(repair.status == 0, "\(repair)")
        for id in 4...6 {
            let item = try #require(try await world.currentArtist("\(id)"))
            let live = try #require(try await world.liveDocument("\(id)"))
            #expect(ReprocessorWorld.content(live.source) == world.expectedContent(item))
        }
        let clean = try await world.cli("reconcile")
        #expect(clean.status == 0, "\(clean)")

        // New messages after the restore are ingested and replayed into the restored store as usual.
        try await world.putArtist("7", name: "Artist 7")
        let known = Set(records.map(\.record.dynamodb.sequenceNumber.digits))
        let latest = try await world.streamRecords().filter { !known.contains($0.record.dynamodb.sequenceNumber.digits) }
        #expect(latest.count == 1)
        try await world.send([world.forwardedBody(latest.map(\.record))])
        let after = try await world.cli("run", "--once")
        #expect(after.status == 0, "\(after)")
        #expect(try await world.liveDocument("7") != nil)
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("a backup that runs out of room says so in one line, leaves no file and does not touch the store")
    func backupOnFullDisk() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...40 { try await world.putArtist("\(id)", name: "Artist \(id) " + String(repeating: "x", count: 2000)) }
        try await world.send(try await world.streamRecords().map { world.forwardedBody([$0.record]) })
        #expect(try await world.cli("ingest").status == 0)
        let store = world.auditDatabasePath
        let size = try #require(try FileManager.default.attributesOfItem(atPath: store)[.size] as? Int)
        let before = try await world.cliJSON("verify")
        let destination = world.directory.appendingPathComponent("full.sqlite3").path
        // The disk is full for the copy: a file-size limit (in 512-byte blocks) under the store's size, in the
        // child alone (SIGXFSZ ignored, so a write past it fails with EFBIG as a write to a full device fails).
        let limitBlocks = max(64, size / 512 / 4)
        let output = try await CommandRunner.run(
            "/bin/sh",
            [
                "-c", "trap '' XFSZ; ulimit -f \(limitBlocks); exec \"$0\" backup --to \"$1\"",
                ReprocessorExecutable.path, destination,
            ],
            environment: world.environment())
        #expect(output.status == 1, "\(output)")
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        #expect(output.stderr.contains("no room to write \(destination)"), "\(output.stderr)")
        #expect(output.stderr.contains("the store is untouched"), "\(output.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: world.directory.path)
        #expect(!left.contains { $0.contains("full.sqlite3") }, "\(left)")
        let after = try await world.cliJSON("verify")
        #expect(after.0.status == 0)
        #expect(after.1?["head"] == before.1?["head"])
    }

    @Test("read commands answer on a full disk: the store is opened read-only, without a -shm to create")
    func readCommandsOnFullDisk() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...3 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
        #expect(try await world.cli("ingest").status == 0)
        // A cleanly stopped writer leaves no -wal or -shm; on a full disk none can be created.
        #expect(!FileManager.default.fileExists(atPath: world.auditDatabasePath + "-shm"))
        for command in [["stats", "--json"], ["list", "--json"], ["verify", "--json"]] {
            let output = try await CommandRunner.run(
                "/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"", ReprocessorExecutable.path] + command,
                environment: world.environment())
            #expect(output.status == 0, "\(command): \(output)")
            #expect((try? JSONValue(parsing: output.stdout)) != nil, "\(command): \(output.stdout)")
        }
        // A command that writes still fails there, with SQLite's reason.
        let write = try await CommandRunner.run(
            "/bin/sh", ["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" ingest", ReprocessorExecutable.path],
            environment: world.environment())
        #expect(write.status == 1, "\(write)")
    }

    @Test(
        "read commands answer from a store the user may only read, in a folder it may not write",
        .enabled(if: geteuid() == 0, "needs root to run the command as another user (nobody)"))
    func readCommandsAsAnotherUser() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...2 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        try await world.send([world.forwardedBody(try await world.streamRecords().map(\.record))])
        #expect(try await world.cli("ingest").status == 0)
        // A folder and a store that user nobody can read and not write (root would bypass the modes).
        let folder = world.directory.appendingPathComponent("read-only")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = folder.appendingPathComponent("audit.sqlite3").path
        try FileManager.default.copyItem(atPath: world.auditDatabasePath, toPath: store)
        for (path, mode) in [(world.directory.path, 0o755), (folder.path, 0o755), (store, 0o644)] {
            #expect(chmod(path, mode_t(mode)) == 0)
        }
        var environment = world.environment()
        environment["AUDIT_DB"] = store
        for command in [["stats", "--json"], ["list", "--json"], ["verify", "--json"]] {
            let output = try await CommandRunner.run(
                "/usr/sbin/runuser", ["-u", "nobody", "--", ReprocessorExecutable.path] + command, environment: environment)
            #expect(output.status == 0, "\(command): \(output)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(left == ["audit.sqlite3"], "nothing created beside the store: \(left)")
    }

    @Test("salvage of a store with a damaged page: exit 3, the unreadable ids, a salvaged action, and verify names the gap")
    func salvageCommand() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...60 { try await world.putArtist("\(id)", name: "Artist \(id) " + String(repeating: "y", count: 300)) }
        try await world.send(try await world.streamRecords().map { world.forwardedBody([$0.record]) })
        #expect(try await world.cli("ingest").status == 0)
        // Random bytes over the middle leaf page of the actions table (found with SQLite's dbstat).
        let damage = """
            import os, sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); size = c.execute("PRAGMA page_size").fetchone()[0]
            leaves = [r[0] for r in c.execute("SELECT pageno FROM dbstat WHERE name = 'actions' AND pagetype = 'leaf' ORDER BY path")]
            c.close(); page = leaves[len(leaves) // 2]
            with open(sys.argv[1], "r+b") as f: f.seek((page - 1) * size); f.write(os.urandom(size))
            print(len(leaves))
            """
        let damaged = try await CommandRunner.run(
            "/usr/bin/python3", ["-c", damage, world.auditDatabasePath], environment: world.environment())
        #expect(
            damaged.status == 0 && (Int(damaged.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 3, "\(damaged)")
        #expect(try await world.cli("verify").status == 1)

        let salvaged = world.directory.appendingPathComponent("salvaged.sqlite3").path
        let output = try await world.cli(
            "salvage", "--from", world.auditDatabasePath, "--to", salvaged, "--reason", "drill", "--actor", "test-operator",
            "--json",
            environment: ["AUDIT_DB": ""])
        #expect(output.status == 3, "\(output)")
        let report = try #require(try? JSONValue(parsing: output.stdout))
        #expect(report["complete"] == .bool(false))
        let actions = report["tables"]?.arrayValue?.first { $0["table"]?.stringValue == "actions" }
        let unreadable = actions?["unreadable"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(unreadable.count == 1, "\(output.stdout)")

        let (verify, verifyJSON) = try await world.cliJSON("verify", "--db", salvaged)
        #expect(verify.status == 1)
        let gaps = verifyJSON?["missingActions"]?.arrayValue ?? []
        #expect(gaps.count == 1, "\(verify.stdout)")
        let gap = gaps.first?.arrayValue?.compactMap(\.intValue) ?? []
        #expect(unreadable.first == "\(gap.first ?? -1)–\(gap.last ?? -1)")
        let audit = try await world.cli("audit", "--db", salvaged, "--action", "salvaged", "--format", "json")
        #expect(audit.stdout.contains("\"actor\":\"test-operator\""), "\(audit.stdout)")
        #expect(audit.stdout.contains("drill"), "\(audit.stdout)")
    }

    @Test("backup and restore refuse a PostgreSQL store with a pointer to pg_dump")
    func postgresRefused() async throws {
        let world = try await ReprocessorWorld.start()
        let output = try await world.cli(
            "backup", "--to", world.directory.appendingPathComponent("x.sqlite3").path,
            environment: ["AUDIT_DB": "postgres://audit@127.0.0.1:1/audit"])
        #expect(output.status == 2, "\(output)")
        #expect(output.stderr.contains("pg_dump"), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1)
    }
}
