import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

/// The run lease against real processes: `kill -9` and `SIGSTOP` of `run --once` at named
/// points (the test-only `DLQ_TEST_PAUSE_AT` switch holds the process there, so each signal
/// provably lands where it says).
@Suite("run lease under kill -9 and SIGSTOP")
struct LeaseCrashTests {
    /// Starts `dlq-reprocessor arguments…` and waits until it pauses at `point`.
    static func startPaused(
        _ world: ReprocessorWorld, _ arguments: [String], at point: String, for seconds: Int = 3600,
        environment: [String: String] = [:]
    ) async throws -> PeerProcess {
        let marker = "DLQ_TEST_PAUSED \(point)"
        let (process, _) = try await PeerProcess.start(
            executable: ReprocessorExecutable.path, arguments: arguments,
            environment: world.environment(
                environment.merging(["DLQ_TEST_PAUSE_AT": point, "DLQ_TEST_PAUSE_SECONDS": String(seconds)]) { $1 }),
            readyWhen: { line in line.contains(marker) ? true : nil }, timeout: .seconds(120))
        return process
    }

    /// Every artist in search equals the table.
    static func expectSearchEqualsTable(_ world: ReprocessorWorld, ids: ClosedRange<Int>, _ label: String) async throws {
        for id in ids {
            let item = try await world.currentArtist("\(id)")
            let live = try await world.liveDocument("\(id)")
            if let item {
                let document = try #require(live, "\(label): artist \(id) missing from search")
                #expect(ReprocessorWorld.content(document.source) == world.expectedContent(item), "\(label): artist \(id)")
            } else {
                #expect(live == nil, "\(label): removed artist \(id) still in search")
            }
        }
    }

    @Test(
        "kill -9 of run --once at each named point of ingest: the next run starts at once and does the work",
        arguments: ["before-commit", "after-commit-before-delete", "before-batch-page-commit"])
    func killAtNamedPoint(_ point: String) async throws {
        let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 2)
        for id in 1...4 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        try await world.putArtist("2", name: "Artist 2 renamed", rating: "3.9")
        let records = try await world.streamRecords()
        try await world.send([
            world.failedBatchBody(Array(records[0..<3]), requestID: "first", arrivedAt: Date()),
            world.failedBatchBody(Array(records[3...]), requestID: "rest", arrivedAt: Date()),
            world.forwardedBody([records[1].record], correlationID: "forwarded"),
        ])

        let paused = try await Self.startPaused(world, ["run", "--once", "--wait", "0"], at: point)
        paused.send(signal: SIGKILL)
        let killed = await paused.waitForExit(timeout: .seconds(30))
        #expect(killed?.killedBySignal == true, "\(point): \(String(describing: killed))")

        // At once: no lease to wait for. Then once more, after the killed run's messages came back.
        let next = try await world.cli("run", "--once", "--wait", "0")
        #expect(next.status == 0, "\(point): \(next)")
        #expect(!next.stdout.contains("holds the lease"), "\(point): a dead holder's lease is free at once: \(next)")
        #expect(try await world.waitUntilNothingInFlight(), "\(point): the killed run's messages never came back")
        let last = try await world.cli("run", "--once", "--wait", "0")
        #expect(last.status == 0, "\(point): \(last)")
        #expect(try await world.queueDepth() == 0, "\(point)")

        let messages = try await AuditDatabase.messages(world.auditDatabasePath)
        #expect(messages.count == 3, "\(point): every message stored once")
        let changes = try await AuditDatabase.changes(world.auditDatabasePath)
        #expect(
            Set(changes.map(\.sequenceNumber)) == Set(records.map(\.record.dynamodb.sequenceNumber.digits)),
            "\(point): nothing lost")
        #expect(changes.count == records.count, "\(point): nothing stored twice")
        let stats = try await AuditLog(path: world.auditDatabasePath).stats()
        #expect(stats.batches[.read] == 2, "\(point)")
        #expect(try await world.cli("verify").status == 0, "\(point)")
        try await Self.expectSearchEqualsTable(world, ids: 1...4, point)
    }

    @Test(
        "a run stopped (SIGSTOP) past its lease's ttl is taken over; resumed, it writes nothing and exits 1 naming the new holder"
    )
    func stoppedHolderIsFenced() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "Artist 1")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record), correlationID: "held-by-the-stopped-run")])
        let environment = ["DLQ_LEASE_TTL": "3"]

        // Paused with the message received and nothing committed, then stopped for longer than the ttl.
        let stale = try await Self.startPaused(
            world, ["run", "--once", "--wait", "0"], at: "before-commit", for: 4, environment: environment)
        stale.send(signal: SIGSTOP)
        // Wait on the condition itself: the stopped run's lease row past its expiry, unrenewed.
        let log = try AuditLog(path: world.auditDatabasePath)
        let held = try #require(try await log.lease(name: AuditLog.runLeaseName))
        while try await log.lease(name: AuditLog.runLeaseName)?.isHeld(at: Date()) == true {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await log.lease(name: AuditLog.runLeaseName)?.epoch == held.epoch, "nobody took it meanwhile")

        let takeover = try await world.cli("run", "--once", "--wait", "0", environment: environment)
        #expect(takeover.status == 0, "the lease of a holder that stopped renewing is taken over: \(takeover)")
        #expect(!takeover.stdout.contains("holds the lease"), "\(takeover)")
        let lease = try #require(try await AuditLog(path: world.auditDatabasePath).lease(name: AuditLog.runLeaseName))
        #expect(lease.epoch == 2)

        stale.send(signal: SIGCONT)
        let exit = await stale.waitForExit(timeout: .seconds(60))
        #expect(exit?.status == 1 && exit?.killedBySignal == false, "\(String(describing: exit))")
        let output = stale.recentOutput.joined(separator: "\n")
        #expect(output.contains(lease.holder), "the stale run names the new holder: \(output)")
        #expect(
            try await AuditDatabase.messages(world.auditDatabasePath).isEmpty,
            "the stale run committed nothing (its message waits on the queue)")
    }
}
