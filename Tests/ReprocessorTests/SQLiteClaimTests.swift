import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Document claims on a SQLite store (migration 0019): the one replayer and the operator commands
/// beside it claim the documents they decide, as a fleet does on PostgreSQL. Found by the
/// simulation (seed 6270): an operator's retry and rollback landed between a replay round's
/// decision and its `_bulk`, and the round's create landed over the rollback.
@Suite("document claims on a SQLite store")
struct SQLiteClaimTests {
    /// A fresh SQLite audit log in a folder of its own.
    static func freshLog() throws -> (AuditLog, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-claims-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try AuditLog(path: directory.appendingPathComponent("audit.sqlite3").path), directory)
    }

    @Test(
        "a claim keeps a document to one task: another cannot take it until it is released or expires; its own task claims it again with a new epoch"
    )
    func claimsExclude() async throws {
        let (log, directory) = try Self.freshLog()
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Date()
        let round = try await log.claimDocuments(["1", "2"], holder: "serve#1", ttl: .seconds(60), now: now)
        #expect(round.epochs.keys.sorted() == ["1", "2"])
        let request = try await log.claimDocuments(["2", "3"], holder: "serve#2", ttl: .seconds(60), now: now)
        #expect(request.epochs.keys.sorted() == ["3"], "a task of the same process cannot take document 2")
        #expect(try await log.claimHolder(of: "2", now: now) == "serve#1")

        let again = try await log.claimDocuments(["1"], holder: "serve#1", ttl: .seconds(60), now: now)
        #expect(try #require(again.epochs["1"]) > (try #require(round.epochs["1"])))
        #expect(try await log.renewClaims(round, ttl: .seconds(60), now: now).epochs.keys.sorted() == ["2"], "epoch 1 is stale")

        // Expiry is judged by the caller's clock: a minute on, document 2 is free.
        let later = now.addingTimeInterval(61)
        #expect(try await log.claimHolder(of: "2", now: later) == nil)
        let taken = try await log.claimDocuments(["2"], holder: "serve#2", ttl: .seconds(60), now: later)
        #expect(taken.holds("2"))
        // The first round's release names its epoch: it gives back nothing another task took.
        try await log.releaseClaims(round)
        #expect(try await log.claimHolder(of: "2", now: later) == "serve#2")
        try await log.releaseClaims(taken)
        #expect(try await log.claimHolder(of: "2", now: later) == nil)
    }

    @Test("taking the run lease over with its kernel lock frees the claims of the dead holder's tasks only")
    func takeOverFreesTheDeadHoldersClaims() async throws {
        let (log, directory) = try Self.freshLog()
        defer { try? FileManager.default.removeItem(at: directory) }
        let now = Date()
        let dead = try #require(
            try await log.takeLease(name: AuditLog.runLeaseName, holder: "run-a", ttl: .seconds(60), lockHeld: true, now: now))
        _ = try await log.claimDocuments(["1"], holder: "run-a#7", ttl: .seconds(60), now: now)
        _ = try await log.claimDocuments(["2"], holder: "operator#1", ttl: .seconds(60), now: now)
        _ = try await log.claimDocuments(["3"], holder: "run-ab#1", ttl: .seconds(60), now: now)
        #expect(dead.holder == "run-a")

        // run-a died (never released the lease); run-b has the kernel lock now.
        let next = try #require(
            try await log.takeLease(name: AuditLog.runLeaseName, holder: "run-b", ttl: .seconds(60), lockHeld: true, now: now))
        #expect(try await log.claimHolder(of: "1", now: now) == nil, "the dead holder's task claims are freed")
        #expect(try await log.claimHolder(of: "2", now: now) == "operator#1")
        #expect(try await log.claimHolder(of: "3", now: now) == "run-ab#1", "only run-a's own tasks")

        // run-b releases the lease and lives on (its tasks give their claims back themselves).
        _ = try await log.claimDocuments(["4"], holder: "run-b#1", ttl: .seconds(60), now: now)
        try await log.releaseLease(next, now: now)
        _ = try #require(
            try await log.takeLease(name: AuditLog.runLeaseName, holder: "run-c", ttl: .seconds(60), lockHeld: true, now: now))
        #expect(try await log.claimHolder(of: "4", now: now) == "run-b#1")
    }

    @Test(
        "the claims of a process that died (its lock file beside the store unlocked) are free at once; a live one's or an unknown one's are not"
    )
    func deadProcessesClaimsAreFree() async throws {
        let (log, directory) = try Self.freshLog()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = log.path + ".claimants"
        let now = Date()
        // This process holds its own lock: its claims stay its own.
        try await log.holdClaimantLock(for: "me")
        let lockFile = { (process: String) in folder + "/" + process.utf8.map { String(format: "%02x", $0) }.joined() }
        #expect(FileManager.default.fileExists(atPath: lockFile("me")))
        // "dead" left its lock file and nobody holds its lock; "alive" is held by a descriptor
        // here (as its process would hold it); "unknown" has no file at all.
        #expect(FileManager.default.createFile(atPath: lockFile("dead"), contents: nil))
        let alive = open(lockFile("alive"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(alive >= 0 && flock(alive, LOCK_EX | LOCK_NB) == 0)
        defer { close(alive) }
        _ = try await log.claimDocuments(["1", "2"], holder: "dead#3", ttl: .seconds(60), now: now)
        _ = try await log.claimDocuments(["3"], holder: "alive#1", ttl: .seconds(60), now: now)
        _ = try await log.claimDocuments(["4"], holder: "unknown#1", ttl: .seconds(60), now: now)
        _ = try await log.claimDocuments(["5"], holder: "me#1", ttl: .seconds(60), now: now)

        let taken = try await log.claimDocuments(["1", "3", "4", "5"], holder: "me#2", ttl: .seconds(60), now: now)
        #expect(taken.epochs.keys.sorted() == ["1"], "only the dead process's claim is free")
        #expect(try await log.claimHolder(of: "2", now: now) == nil, "all of the dead process's claims are freed")
        #expect(!FileManager.default.fileExists(atPath: lockFile("dead")), "its file is cleared")
        #expect(try await log.claimHolder(of: "3", now: now) == "alive#1")
        #expect(try await log.claimHolder(of: "4", now: now) == "unknown#1")
        #expect(try await log.claimHolder(of: "5", now: now) == "me#1")
    }

    @Test(
        "an operator's retry and rollback meet a replay round held between its decision and its write: conflicts; the round's create lands once"
    )
    func operatorAgainstAHeldRound() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("3", name: "Artist 3")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        let ingest = try await world.cli("ingest", "--wait", "0")
        #expect(ingest.status == 0, "\(ingest)")
        let log = try AuditLog(path: world.auditDatabasePath)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)

        // The round decides to create document 3 (search has none), records its intent and stops
        // just before its _bulk, until the test lets it go on.
        let resumeFile = world.directory.appendingPathComponent("resume-round").path
        // However the test ends, the held process goes on and exits by itself.
        defer { _ = FileManager.default.createFile(atPath: resumeFile, contents: nil) }
        let running = Task {
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["run", "--once", "--json"],
                environment: world.environment([
                    "DLQ_TEST_PAUSE_AT": "before-write", "DLQ_TEST_PAUSE_SECONDS": "600",
                    "DLQ_TEST_RESUME_FILE": resumeFile,
                ]))
        }
        // Waits on the pause itself (the process marks it); the deadline only stops a hung test.
        let deadline = ContinuousClock.now + .seconds(180)
        while !FileManager.default.fileExists(atPath: resumeFile + ".paused"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(FileManager.default.fileExists(atPath: resumeFile + ".paused"), "the round reached its write")
        let holder = try #require(try await log.claimHolder(of: "3", now: Date()), "the round holds document 3")

        let retry = try await world.cli("retry", String(change.id), "--json")
        let retried = try JSONValue(parsing: retry.stdout)["results"]?.arrayValue?.first
        #expect(retried?["outcome"]?.stringValue == "conflict", "\(retry)")
        #expect(retried?["message"]?.stringValue?.contains("another worker is writing document 3") == true, "\(retry)")
        let rollback = try await world.cli("rollback", String(change.id), "--reason", "held round", "--force", "--json")
        let rolled = try JSONValue(parsing: rollback.stdout)["results"]?.arrayValue?.first
        #expect(rolled?["outcome"]?.stringValue != "rolled_back", "\(rollback)")
        #expect(try await world.liveDocument("3") == nil, "no operator wrote the held document")
        #expect(try await log.claimHolder(of: "3", now: Date()) == holder, "the round's claim was not taken over")

        FileManager.default.createFile(atPath: resumeFile, contents: nil)
        let run = try await running.value
        #expect(run.status == 0, "\(run)")
        #expect(try await log.change(id: change.id)?.status == .applied)
        let history = try await log.actions(forChange: change.id).map(\.action)
        #expect(history.filter { $0 == .applied }.count == 1, "\(history)")
        #expect(!history.contains(.rolledBack), "\(history)")
        #expect(try await world.liveDocument("3")?.source["name"]?.stringValue == "Artist 3")
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty, "no write intent left open")
        #expect(try await log.claimHolder(of: "3", now: Date()) == nil, "the round gave its claim back")
        #expect(try await world.cli("verify").status == 0)
    }
}
