import AuditLog
import Foundation
import NIOHTTP1
import OpenSearchClient
import StreamModel
import SyncTransform
import Synchronization
import TestSupport
import Testing

/// OpenSearch going away or refusing writes in the middle of a replay.
@Suite("OpenSearch faults")
struct OpenSearchFaultTests {
    /// Proves that a replay interrupted by OpenSearch stopping never marks a change applied that
    /// search does not hold, loses no change, counts no attempt against the changes it could not
    /// write (an outage is not their fault: the run pauses and exits 1), and that the next run,
    /// started at once, finishes the work. The running
    /// `dlq-reprocessor run --once` is paused (SIGSTOP) once some changes are applied, so the
    /// index can be saved exactly as the server holds it; the server is then stopped (connections
    /// refused), the run resumed against the dead address, and the server started again on the
    /// same address with the saved documents (osmem keeps nothing across a restart by itself).
    @Test("OpenSearch stopped mid-replay and started again: the run pauses, nothing failed or lost, next run finishes")
    func stoppedMidReplay() async throws {
        let scenario = try await Scenario.make()
        let world = scenario.world
        var restarted: OSMemServer?
        defer { restarted?.stop() }
        let run = try await scenario.interruptReplay { pid in
            kill(pid, SIGSTOP)
            let saved = try await Self.quiescentDump(world)
            world.openSearchServer.stop()
            kill(pid, SIGCONT)
            return saved
        } then: { saved in
            let seed = world.directory.appendingPathComponent("search-before-stop.ndjson")
            try saved.write(to: seed, atomically: true, encoding: .utf8)
            restarted = try await OSMemServer.start(address: world.openSearchServer.address, seedFiles: [seed.path])
        }
        #expect(!run.killedBySignal && run.status == 1, "an outage pauses the run: \(run)")
        #expect(run.stderr.contains("replay paused"), "\(run)")
        try await scenario.assertAppliedAreInSearchNothingLostNothingCounted()
        try await scenario.nextRunFinishes()
    }

    /// Proves that a replay write which landed but whose answer was lost (the `_bulk` reached
    /// search, the client was told 503 and sent it again, and each conditional write was then
    /// refused with 409) is recorded as the write it was, found by its stamp in search, not
    /// decided again as another writer's change ("already in search; nothing written").
    @Test("a replay write that landed but whose answer was lost is recorded as written, not as found in search")
    func writeLandedByAnEarlierAttempt() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("5", name: "Lost Answer")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        #expect(try await world.cli("ingest", "--wait", "0").status == 0)
        let proxy = try await FaultProxy.start(upstream: world.openSearchServer.url)
        defer { proxy.stop() }
        proxy.fail(method: "POST", pathContaining: "/_bulk", times: 1, status: 503, forwardingFirst: true)

        let run = try await world.cli("run", "--once", environment: ["OPENSEARCH_ENDPOINT": proxy.url.absoluteString])
        #expect(run.status == 0, "\(run)")
        #expect(proxy.requests(method: "POST", pathContaining: "/_bulk").count == 2, "sent again after the 503")
        let log = try AuditLog(path: world.auditDatabasePath)
        let history = try await log.history(documentID: "5")
        #expect(history.changes.map(\.status) == [.applied], "\(history.changes)")
        let responses = history.actions.compactMap { $0.response.flatMap { try? JSONValue(parsing: $0) } }
        let written = responses.filter { $0["written"] != nil && $0["written"] != .null }
        #expect(written.count == 1 && written.first?["recovered"]?.boolValue == true, "\(responses)")
        #expect(
            !history.actions.contains { ($0.outcome + ($0.response ?? "")).contains("nothing written") }, "\(history.actions)")
        #expect(try await log.openWriteIntents(recordedBefore: Date(), limit: 10).isEmpty)
        #expect(try await world.liveDocument("5")?.source["name"]?.stringValue == "Lost Answer")
        #expect(try await world.cli("verify").status == 0)
    }

    /// Proves the same when OpenSearch refuses writes (`index.blocks.write`: 403
    /// `cluster_block_exception` per bulk item) from the middle of a replay: the run pauses naming
    /// the block, no attempt is counted, none is marked applied without being in search, and once
    /// writes are allowed again the next run applies them all.
    @Test("OpenSearch refuses writes mid-replay: the run pauses naming the block, nothing counted, next run finishes")
    func writesBlockedMidReplay() async throws {
        let scenario = try await Scenario.make()
        let world = scenario.world
        let run = try await scenario.interruptReplay { _ in
            try await world.openSearchServer.fixtures.blockWrites(index: world.index)
        } then: { _ in
        }
        #expect(!run.killedBySignal && run.status == 1, "\(run)")
        #expect(run.stderr.contains("replay paused") && run.stderr.contains("blocked"), "\(run)")
        try await scenario.assertAppliedAreInSearchNothingLostNothingCounted()
        try await world.openSearchServer.fixtures.blockWrites(index: world.index, false)
        try await scenario.nextRunFinishes()
    }

    /// The index's documents in `_bulk` form, read until two reads agree (so writes already
    /// received have landed).
    static func quiescentDump(_ world: ReprocessorWorld) async throws -> String {
        var previous: String?
        for _ in 0..<50 {
            let fixtures = world.openSearchServer.fixtures
            try await fixtures.json(.POST, "/\(world.index)/_refresh")
            let answer = try await fixtures.json(
                .POST, "/\(world.index)/_search", body: #"{"size": 10000, "query": {"match_all": {}}, "sort": ["_doc"]}"#)
            let lines = (answer["hits"]?["hits"]?.arrayValue ?? []).compactMap { hit -> String? in
                guard let id = hit["_id"]?.stringValue, let source = hit["_source"] else { return nil }
                let action = JSONValue.object(["index": .object(["_index": .string(world.index), "_id": .string(id)])])
                return action.serialized + "\n" + source.serialized + "\n"
            }
            let dump = lines.sorted().joined()
            if dump == previous { return dump }
            previous = dump
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ReliabilityError("the index kept changing while the reprocessor was paused")
    }
}

/// Artists with several versions each on the DLQ, ingested and ready to replay.
struct Scenario {
    let world: ReprocessorWorld
    let records: [(shardID: String, record: StreamRecord)]

    /// 40 artists, each inserted and modified two or three times, a few removed; every record
    /// sent as format-A batches of ten and ingested (nothing replayed yet).
    static func make() async throws -> Scenario {
        let world = try await ReprocessorWorld.start()
        for id in 1...40 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        for round in 1...3 {
            for id in 1...40 where round < 3 || id.isMultiple(of: 2) {
                try await world.putArtist("\(id)", name: "Artist \(id) v\(round + 1)", rating: "4.\(round)")
            }
        }
        for id in [5, 10, 15] { try await world.deleteArtist("\(id)") }
        let records = try await world.streamRecords()
        let bodies = stride(from: 0, to: records.count, by: 10).map {
            world.failedBatchBody(Array(records[$0..<min($0 + 10, records.count)]), requestID: "fault-\($0)")
        }
        try await world.send(bodies)
        let ingest = try await world.cli("ingest", "--wait", "0")
        guard ingest.status == 0 else { throw ReliabilityError("ingest failed: \(ingest)") }
        // SQS delivers at least once: on a loaded machine a receive or delete whose answer came
        // too late leaves a message hidden until its visibility timeout (seen once in a full
        // suite beside a build, not alone), and a later check of the queue would count it. The
        // scenario starts from a drained queue: such a message is ingested again (a duplicate of
        // what is stored) once it is visible.
        var drains = 1
        while try await world.queueDepth() > 0 {
            drains += 1
            guard drains <= 3, try await world.waitUntilNothingInFlight() else {
                throw ReliabilityError("the queue is not empty after \(drains - 1) ingests")
            }
            let again = try await world.cli("ingest", "--wait", "0")
            guard again.status == 0 else { throw ReliabilityError("ingest failed: \(again)") }
        }
        return Scenario(world: world, records: records)
    }

    /// Starts `run --once`, waits until it has applied some changes, runs `fault` with its pid,
    /// waits for it to end, and runs `then` with what `fault` returned.
    func interruptReplay<T: Sendable>(
        _ fault: (Int32) async throws -> T, then: (T) async throws -> Void
    ) async throws -> CommandRunner.Output {
        let pid = Mutex<Int32?>(nil)
        let running = Task { [world] in
            // Two documents per round, so that the fault lands between rounds of the pass.
            try await CommandRunner.run(
                ReprocessorExecutable.path, ["run", "--once"], environment: world.environment(["DLQ_BATCH_DOCUMENTS": "2"]),
                onStart: { started in pid.withLock { $0 = started } })
        }
        let midway = try await eventually(timeout: .seconds(60), interval: .milliseconds(20)) {
            let applied = try await AuditDatabase.actionCounts(world.auditDatabasePath).values.filter {
                $0["applied"] != nil
            }
            return applied.count >= 6
        }
        guard midway, let processID = pid.withLock({ $0 }) else {
            running.cancel()
            throw ReliabilityError("the replay applied nothing within 60 s")
        }
        let result = try await fault(processID)
        let output = try await running.value
        let appliedAtEnd = try await AuditDatabase.changes(world.auditDatabasePath).filter { $0.status == "applied" }
        #expect(appliedAtEnd.count < 40, "the fault came after the replay had finished")
        try await then(result)
        return output
    }

    /// Checks that every applied change is in search, that no change went missing, and that no
    /// attempt was counted against a change (the outage was not its fault).
    func assertAppliedAreInSearchNothingLostNothingCounted() async throws {
        let log = try AuditLog(path: world.auditDatabasePath)
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 1000).rows
        #expect(changes.count == records.count, "every record is still a change")
        #expect(Set(changes.map(\.sequenceNumber)) == Set(records.map(\.record.dynamodb.sequenceNumber)))
        #expect(changes.allSatisfy { [.applied, .superseded, .pending].contains($0.status) })
        #expect(changes.allSatisfy { $0.attempts == 0 }, "an outage counted attempts against changes")
        #expect(changes.contains { $0.status == .pending }, "the pause left work for the next run")
        #expect(try await world.queueDepth() == 0)
        for change in changes where change.status == .applied {
            let documentID = try #require(change.documentID)
            let live = try await world.liveDocument(documentID)
            let liveSequence = live.flatMap { SyncTransform.syncedSequenceNumber(in: $0.source) }
            if change.eventName == .remove {
                #expect(
                    live == nil || (liveSequence.map { $0 > change.sequenceNumber } ?? false),
                    "change \(change.id) (REMOVE) is marked applied but \(documentID) is in search")
            } else {
                #expect(
                    liveSequence.map { $0 >= change.sequenceNumber } ?? false,
                    "change \(change.id) is marked applied but search has \(documentID) at \(liveSequence?.digits ?? "nothing")")
            }
        }
    }

    /// Runs once more, at once, and checks that everything is applied (or superseded), each
    /// change at most once, and that search equals the table.
    func nextRunFinishes() async throws {
        let run = try await world.cli("run", "--once")
        #expect(run.status == 0, "\(run)")
        let log = try AuditLog(path: world.auditDatabasePath)
        let changes = try await log.listChanges(ChangeFilter(), after: nil, limit: 1000).rows
        let open = changes.filter { ![.applied, .superseded].contains($0.status) }
        #expect(open.isEmpty, "left over: \(open.map { "\($0.id) \($0.status.rawValue) \($0.lastError ?? "")" }.prefix(5))")
        let actions = try await AuditDatabase.actionCounts(world.auditDatabasePath)
        #expect(actions.values.allSatisfy { ($0["applied"] ?? 0) <= 1 }, "a change applied twice")
        for id in 1...40 {
            let item = try await world.currentArtist("\(id)")
            let live = try await world.liveDocument("\(id)")
            if let item {
                let document = try #require(live, "artist \(id) missing from search")
                #expect(ReprocessorWorld.content(document.source) == world.expectedContent(item), "artist \(id)")
                let latest = records.filter { $0.record.dynamodb.keys == ReprocessorWorld.artistKeys("\(id)") }
                    .map(\.record.dynamodb.sequenceNumber).max()
                #expect(SyncTransform.syncedSequenceNumber(in: document.source) == latest, "artist \(id)")
            } else {
                #expect(live == nil, "removed artist \(id) still in search")
            }
        }
        #expect(try await world.cli("verify").status == 0)
    }
}
