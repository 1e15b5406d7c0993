import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization
import TestSupport
import Testing

/// `kill -9` of `run --once` at named points of the write engine, held there by the test-only
/// pause switch (`DLQ_TEST_PAUSE_AT`), so each kill provably lands where it says.
@Suite("write engine crash safety")
struct EngineCrashTests {
    /// Six artists, two versions each, forwarded to the DLQ and ingested (nothing replayed yet).
    static func ingestedWorld() async throws -> (ReprocessorWorld, [StreamRecord]) {
        let world = try await ReprocessorWorld.start()
        for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id) v2", rating: "4.9") }
        let records = try await world.streamRecords().map(\.record)
        try await world.send([world.forwardedBody(records)])
        let ingest = try await world.cli("ingest", "--wait", "0")
        guard ingest.status == 0 else { throw ReliabilityError("ingest failed: \(ingest)") }
        return (world, records)
    }

    /// Runs `run --once` paused at `point`, waits until the process says it is paused there (its
    /// `.paused` file) and `ready` says what the pause should have left, and kills it with SIGKILL.
    static func killPaused(
        _ world: ReprocessorWorld, at point: String, when ready: @escaping @Sendable () async throws -> Bool
    ) async throws -> CommandRunner.Output {
        let pid = Mutex<Int32?>(nil)
        // Never created: the file only makes the process mark the moment it pauses.
        let resumeFile = world.auditDatabasePath + ".resume-\(point)"
        let running = Task {
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["run", "--once"],
                environment: world.environment([
                    "DLQ_TEST_PAUSE_AT": point, "DLQ_TEST_PAUSE_SECONDS": "600", "DLQ_TEST_RESUME_FILE": resumeFile,
                ]),
                onStart: { started in pid.withLock { $0 = started } })
        }
        let reached = try await eventually(timeout: .seconds(60), interval: .milliseconds(50)) {
            FileManager.default.fileExists(atPath: resumeFile + ".paused") ? try await ready() : false
        }
        guard reached, let processID = pid.withLock({ $0 }) else {
            running.cancel()
            throw ReliabilityError("run --once never reached \(point)")
        }
        kill(processID, SIGKILL)
        let output = try await running.value
        #expect(output.killedBySignal, "\(output)")
        #expect(output.stderr.contains("DLQ_TEST_PAUSED \(point)"), "the kill landed at \(point): \(output.stderr)")
        return output
    }

    /// Open write intents of the audit log at `path`.
    static func openIntents(_ path: String) async throws -> [WriteIntent] {
        try await AuditLog(path: path).openWriteIntents(recordedBefore: Date().addingTimeInterval(3600), limit: 1000)
    }

    /// After the next run: every change applied or superseded, no change applied twice, search
    /// equal to the table, the chain intact.
    static func nextRunFinishes(_ world: ReprocessorWorld) async throws -> JSONValue? {
        let (run, json) = try await world.cliJSON("run", "--once")
        #expect(run.status == 0, "the next run starts at once and does the work: \(run)")
        let log = try AuditLog(path: world.auditDatabasePath)
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 1000).rows
        #expect(changes.count == 12)
        #expect(changes.allSatisfy { [.applied, .superseded].contains($0.status) }, "\(changes.map(\.status))")
        let counts = try await AuditDatabase.actionCounts(world.auditDatabasePath)
        #expect(counts.values.allSatisfy { ($0["applied"] ?? 0) <= 1 }, "a change applied twice")
        for id in 1...6 {
            let item = try #require(try await world.currentArtist("\(id)"))
            let live = try #require(try await world.liveDocument("\(id)"), "artist \(id) missing from search")
            #expect(ReprocessorWorld.content(live.source) == world.expectedContent(item), "artist \(id)")
        }
        #expect(try await world.cli("verify").status == 0)
        return json
    }

    @Test("killed after its writes landed and before their record: the next run records each write once, from search")
    func killedAfterWriteBeforeRecord() async throws {
        let (world, _) = try await Self.ingestedWorld()
        let path = world.auditDatabasePath
        _ = try await Self.killPaused(world, at: "after-write-before-record") {
            let intents = try await Self.openIntents(path)
            guard intents.count == 6 else { return false }
            for intent in intents {
                if try await world.liveDocument(intent.intent.documentID) == nil { return false }
            }
            return true
        }
        let log = try AuditLog(path: path)
        let pending = try await log.listChanges(ChangeFilter(statuses: [.pending]), after: nil, limit: 100).rows
        #expect(pending.count == 12, "nothing recorded before the kill")
        #expect(try await world.openSearch.multiGet(index: world.index, ids: (1...6).map(String.init)).count == 6)

        let json = try await Self.nextRunFinishes(world)
        #expect(json?["replay"]?["recovered"]?.intValue == 6, "\(String(describing: json))")
        #expect(json?["replay"]?["writes"]?.intValue == 0, "nothing written twice")
        // Each of the six writes has exactly one action carrying its response.
        let actions = try await log.listActions(ActionFilter(actions: [.applied]), after: nil, limit: 1000).rows
        let recovered = actions.filter { ($0.response ?? "").contains("\"recovered\":true") }
        #expect(recovered.count == 6)
        #expect(Set(recovered.compactMap(\.changeID)).count == 6)
        #expect(try await Self.openIntents(path).isEmpty)
    }

    @Test("killed with its intents recorded and nothing sent: the next run writes everything once; nothing is recovered")
    func killedBeforeWrite() async throws {
        let (world, _) = try await Self.ingestedWorld()
        let path = world.auditDatabasePath
        _ = try await Self.killPaused(world, at: "before-write") { try await Self.openIntents(path).count == 6 }
        #expect(try await world.openSearch.multiGet(index: world.index, ids: (1...6).map(String.init)).isEmpty)

        let json = try await Self.nextRunFinishes(world)
        #expect(json?["replay"]?["recovered"]?.intValue == 0)
        #expect(json?["replay"]?["writes"]?.intValue == 6)
        // The killed run's intents name writes search never saw: they stay until their grace ends, then go.
        #expect(try await Self.openIntents(path).count == 6)
    }
}
