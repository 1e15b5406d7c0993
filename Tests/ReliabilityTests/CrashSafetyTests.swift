import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import Synchronization
import TestSupport
import Testing

/// `kill -9` of the real `dlq-reprocessor ingest` at random moments.
@Suite("crash safety")
struct CrashSafetyTests {
    /// Proves that ingest commits before it deletes and is idempotent across crashes: the
    /// executable (`ingest`, and `run --once` every other cycle, whose lease a kill must not
    /// leave blocking the next run) is killed with SIGKILL at random moments (at least 20 times;
    /// more with `RELIABILITY_SCALE`) while it drains a queue that keeps receiving format A, B and C
    /// messages that repeat each other's records. After every kill, each message sent so far is
    /// in the audit log or still on the queue; after a final drain every message is stored
    /// exactly once (body byte for byte), every record is stored as exactly one change with one
    /// ingest action, the hash chain verifies, and one replay applies each change at most once
    /// and leaves search equal to the table.
    @Test("kill -9 during ingest and run --once loses no message, stores no change twice, never blocks the next run")
    func killDuringIngest() async throws {
        let seed = ReliabilityScale.seed()
        var random = SeededGenerator(seed: seed)
        let targetKills = ReliabilityScale.scaled(20)
        let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 2)
        for id in 1...12 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        for id in [2, 5, 7, 9, 11, 2] { try await world.putArtist("\(id)", name: "Artist \(id) renamed", rating: "4.9") }
        try await world.deleteArtist("4")
        try await world.deleteArtist("8")
        try await world.put(["PK": .string("STUDIO#1"), "SK": .string("METADATA"), "name": .string("Ink Works")])
        try await world.put(["PK": .string("ARTIST#3"), "SK": .string("PORTFOLIO#1"), "url": .string("https://x/1.jpg")])
        let records = try await world.streamRecords()
        let shards = Dictionary(grouping: records.indices, by: { records[$0].shardID }).values.map { $0.sorted() }

        var sent: [String] = []
        var referenced = Set<String>()
        var cycles = 0
        var kills = 0
        var maxDelayMilliseconds = 900
        while kills < targetKills && cycles < targetKills * 4 {
            cycles += 1
            var bodies: [String] = []
            for index in 0..<Int.random(in: 8...14, using: &random) {
                let tag = "\(cycles)-\(index)"
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    let shard = shards.randomElement(using: &random)!
                    let start = Int.random(in: 0..<shard.count, using: &random)
                    let slice = shard[start..<min(start + Int.random(in: 1...4, using: &random), shard.count)]
                    bodies.append(world.failedBatchBody(slice.map { records[$0] }, requestID: "crash-\(tag)"))
                    referenced.formUnion(slice.map { records[$0].record.dynamodb.sequenceNumber.digits })
                case 4..<8:
                    let picked = (0..<Int.random(in: 1...3, using: &random)).map { _ in records.randomElement(using: &random)! }
                    bodies.append(world.forwardedBody(picked.map(\.record), correlationID: "crash-\(tag)"))
                    referenced.formUnion(picked.map { $0.record.dynamodb.sequenceNumber.digits })
                default:
                    bodies.append(index.isMultiple(of: 2) ? "not json \(tag)" : #"{"unexpected": "\#(tag)"}"#)
                }
            }
            try await world.send(bodies)
            sent += bodies

            let delay = Duration.milliseconds(Int.random(in: 0...maxDelayMilliseconds, using: &random))
            // Every other cycle the whole cron run (ingest, batches, replay, under the run lease).
            let command = cycles.isMultiple(of: 2) ? ["run", "--once", "--wait", "0"] : ["ingest", "--wait", "0"]
            let output = try await Self.run(world, command, killAfter: delay)
            if output.killedBySignal {
                #expect(output.status == SIGKILL, "seed \(seed): ended by signal \(output.status), not our SIGKILL")
                kills += 1
            } else {
                #expect(output.status == 0 || output.status == 3, "seed \(seed), cycle \(cycles): \(output)")
                #expect(
                    !output.stdout.contains("holds the lease"),
                    "seed \(seed), cycle \(cycles): a killed run's lease is free at once: \(output)")
                maxDelayMilliseconds = max(50, maxDelayMilliseconds * 3 / 4)
            }

            // Every message sent so far is stored or still on the queue (counting, since messages
            // in flight cannot be listed: a message deleted without being stored makes the queue
            // hold fewer than the sent messages missing from the audit log).
            let stored = Set(try await AuditDatabase.messages(world.auditDatabasePath).map(\.body))
            let missing = sent.filter { !stored.contains(Array($0.utf8)) }.count
            let onQueue = try await world.queueDepth(readingUntil: missing)
            #expect(
                missing <= onQueue,
                "seed \(seed), cycle \(cycles): \(missing) messages neither stored nor accounted for by the \(onQueue) on the queue"
            )
        }
        #expect(kills >= targetKills, "seed \(seed): only \(kills) of \(cycles) ingests were killed while running")

        // One batch naming every record, so the final replay has the whole history.
        let everything = shards.map { world.failedBatchBody($0.map { records[$0] }, requestID: "crash-final-\($0[0])") }
        try await world.send(everything)
        sent += everything
        referenced.formUnion(records.map { $0.record.dynamodb.sequenceNumber.digits })

        #expect(try await world.waitUntilNothingInFlight(), "seed \(seed): messages of killed ingests never came back")
        // A drain ends at its first empty receive, and a receive may come back empty while messages
        // remain (SQS samples its servers; a loaded moto does the same): drain again, a few times
        // at most, while the queue still counts messages.
        var drain = try await world.cli("ingest", "--wait", "1")
        var left = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
        for _ in 0..<3 where left.visible + left.inFlight > 0 && !drain.killedBySignal && drain.status != 1 {
            drain = try await world.cli("ingest", "--wait", "1")
            left = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
        }
        #expect(!drain.killedBySignal && (drain.status == 0 || drain.status == 3), "seed \(seed): \(drain)")
        #expect(left.visible + left.inFlight == 0, "seed \(seed): the final drain left \(left) on the queue: \(drain)")

        let messages = try await AuditDatabase.messages(world.auditDatabasePath)
        let storedBodies = messages.map(\.body).sorted { $0.lexicographicallyPrecedes($1) }
        let sentBodies = sent.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(messages.count == sent.count, "seed \(seed): \(messages.count) messages stored for \(sent.count) sent")
        #expect(storedBodies == sentBodies, "seed \(seed): every body stored exactly once, byte for byte")

        let changes = try await AuditDatabase.changes(world.auditDatabasePath)
        #expect(changes.count == referenced.count, "seed \(seed): \(changes.count) changes for \(referenced.count) records")
        #expect(Set(changes.map(\.sequenceNumber)) == referenced, "seed \(seed)")
        let eventIDs = changes.compactMap(\.eventID)
        #expect(Set(eventIDs).count == eventIDs.count, "seed \(seed): an event stored twice")
        let actions = try await AuditDatabase.actionCounts(world.auditDatabasePath)
        for change in changes {
            let ingestActions = ["ingested", "filtered", "expired"].map { actions[change.id]?[$0] ?? 0 }.reduce(0, +)
            #expect(ingestActions == 1, "seed \(seed): change \(change.id) has \(ingestActions) ingest actions")
        }
        let verify = try await world.cli("verify")
        #expect(verify.status == 0, "seed \(seed): \(verify)")

        let run = try await world.cli("run", "--once")
        #expect(run.status == 0, "seed \(seed): \(run)")
        let afterRun = try await AuditDatabase.actionCounts(world.auditDatabasePath)
        #expect(afterRun.values.allSatisfy { ($0["applied"] ?? 0) <= 1 }, "seed \(seed): a change applied twice")
        for id in 1...12 {
            let item = try await world.currentArtist("\(id)")
            let live = try await world.liveDocument("\(id)")
            if let item {
                let document = try #require(live, "seed \(seed): artist \(id) missing from search")
                #expect(ReprocessorWorld.content(document.source) == world.expectedContent(item), "seed \(seed): artist \(id)")
            } else {
                #expect(live == nil, "seed \(seed): removed artist \(id) still in search")
            }
        }
    }

    /// Runs the executable and sends it SIGKILL after `delay` unless it has finished by then.
    static func run(_ world: ReprocessorWorld, _ arguments: [String], killAfter delay: Duration) async throws
        -> CommandRunner.Output
    {
        let started = Mutex<Int32?>(nil)
        let finished = Mutex(false)
        let killer = Task {
            try await Task.sleep(for: delay)
            // Not signalled once the run has returned. Between the child being reaped and
            // `finished` being set lie microseconds, far too few for the kernel to hand the pid on.
            finished.withLock { done in
                if !done, let pid = started.withLock({ $0 }) { kill(pid, SIGKILL) }
            }
        }
        defer { killer.cancel() }
        let output = try await CommandRunner.run(
            ReprocessorExecutable.path, arguments, environment: world.environment(),
            onStart: { pid in started.withLock { $0 = pid } })
        finished.withLock { $0 = true }
        return output
    }
}
