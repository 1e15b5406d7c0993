import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import Reprocessor
import StreamModel
import SyncTransform
import TestSupport
import Testing

/// The built `dlq-reprocessor` run as a process against real moto and osmem.
@Suite("dlq-reprocessor end to end")
struct EndToEndTests {
    @Test("the whole scenario: A, B and C messages drained, every record once, search equals the table")
    func wholeScenario() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        try await world.put(["PK": .string("ARTIST#1"), "SK": .string("PORTFOLIO#1"), "url": .string("https://x/p.jpg")])
        try await world.put(["PK": .string("STUDIO#9"), "SK": .string("METADATA"), "name": .string("Ink Works")])
        try await world.putArtist("2", name: "Artist Two", rating: "4.9")
        try await world.putArtist("2", name: "Artist Two (moved)", rating: "4.8", styles: ["realism", "dotwork"])
        try await world.deleteArtist("4")
        let records = try await world.streamRecords()
        #expect(records.count == 11)

        var bodies: [String] = []
        for start in stride(from: 0, to: records.count, by: 4) {
            bodies.append(world.failedBatchBody(Array(records[start..<min(start + 4, records.count)]), requestID: "req-\(start)"))
        }
        // Format B repeating records that format A also names: stored once.
        bodies.append(world.forwardedBody(records.prefix(2).map(\.record), correlationID: "corr-forward"))
        let quarantined = [
            "this is not json",
            #"{"hello": "world"}"#,
            #"{"Records": [{"eventName": "UPSERT", "dynamodb": {}}]}"#,
            String(repeating: "{\"a\":", count: 3000),
            "\u{1}\u{2}binary\u{7F}",
        ]
        bodies += quarantined
        try await world.send(bodies)

        let run = try await world.cli("run", "--once")
        #expect(run.status == 3, "quarantined messages leave work for an operator: \(run)")

        #expect(try await world.queueDepth() == 0)
        for id in 1...6 {
            let item = try await world.currentArtist("\(id)")
            let live = try await world.liveDocument("\(id)")
            if let item {
                let document = try #require(live, "artist \(id) should be in search")
                #expect(ReprocessorWorld.content(document.source) == world.expectedContent(item))
                #expect(SyncTransform.syncedSequenceNumber(in: document.source) != nil)
            } else {
                #expect(live == nil, "removed artist \(id) must not be in search")
            }
        }

        let (list, listJSON) = try await world.cliJSON("list", "--limit", "1000")
        #expect(list.status == 0, "\(list)")
        let changes = try #require(listJSON?["changes"]?.arrayValue)
        #expect(changes.count == records.count, "every record exactly once")
        let sequences = changes.compactMap { $0["sequenceNumber"]?.stringValue }
        #expect(Set(sequences) == Set(records.map(\.record.dynamodb.sequenceNumber.digits)))
        let filtered = changes.filter { $0["status"]?.stringValue == "filtered" }
        #expect(filtered.count == 2, "the portfolio row and the studio are not artists")

        let log = try AuditLog(path: world.auditDatabasePath)
        let stored = try await log.quarantinedMessages(after: nil, limit: 100).rows
        #expect(Set(stored.map(\.body)) == Set(quarantined), "quarantined bodies kept byte for byte")
        #expect(stored.allSatisfy { !($0.quarantineReason ?? "").isEmpty })
        let (_, quarantinedJSON) = try await world.cliJSON("quarantined", "--limit", "100")
        let listed = try #require(quarantinedJSON?["messages"]?.arrayValue)
        #expect(Set(listed.compactMap { $0["body"]?.stringValue }) == Set(quarantined))

        let (stats, statsJSON) = try await world.cliJSON("stats")
        #expect(stats.status == 0)
        #expect(statsJSON?["messages"]?["quarantined"]?.intValue == quarantined.count)
        #expect(statsJSON?["changes"]?["pending"]?.intValue == 0)
        #expect(statsJSON?["changes"]?["skipped"]?.intValue == 0, "every status is listed, zeros included")

        let verify = try await world.cli("verify")
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("an old change delivered after a newer one is superseded and leaves the document unchanged")
    func olderChangeIsSuperseded() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("1", name: "First")
        try await world.putArtist("1", name: "Second")
        let records = try await world.streamRecords()
        #expect(records.count == 2)
        try await world.send([world.failedBatchBody([records[1]], requestID: "newer")])
        #expect(try await world.cli("run", "--once").status == 0)
        let before = try #require(try await world.liveDocument("1"))
        #expect(before.source["name"]?.stringValue == "Second")

        try await world.send([world.forwardedBody([records[0].record])])
        #expect(try await world.cli("run", "--once").status == 0)
        let after = try #require(try await world.liveDocument("1"))
        #expect(after.seqNo == before.seqNo, "nothing written")
        #expect(after.source == before.source)
        let (_, listJSON) = try await world.cliJSON("list", "--status", "superseded")
        let superseded = try #require(listJSON?["changes"]?.arrayValue)
        #expect(superseded.map { $0["sequenceNumber"]?.stringValue } == [records[0].record.dynamodb.sequenceNumber.digits])
    }

    @Test("rollback restores the old image, refuses when the document moved on, and --force overrides")
    func rollbackAndConflict() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("7", name: "Original")
        try await world.putArtist("7", name: "Renamed")
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody([records[0]], requestID: "insert")])
        #expect(try await world.cli("run", "--once").status == 0)
        try await world.send([world.failedBatchBody([records[1]], requestID: "modify")])
        #expect(try await world.cli("run", "--once").status == 0)
        #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed")

        let (_, listJSON) = try await world.cliJSON("list", "--key", "ARTIST#7")
        let ids = try #require(listJSON?["changes"]?.arrayValue).compactMap { $0["id"]?.intValue }
        #expect(ids.count == 2)
        let insertID = String(ids[0]), modifyID = String(ids[1])

        let noReason = try await world.cli("rollback", insertID)
        #expect(noReason.status == 2, "a rollback needs a reason: \(noReason)")

        let conflict = try await world.cli("rollback", insertID, "--reason", "bad data")
        #expect(conflict.status == 1)
        #expect(conflict.stdout.contains(records[0].record.dynamodb.sequenceNumber.digits))
        #expect(conflict.stdout.contains(records[1].record.dynamodb.sequenceNumber.digits))
        #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed", "nothing written")

        let dryRun = try await world.cli("rollback", modifyID, "--reason", "typo", "--dry-run")
        #expect(dryRun.status == 0)
        #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Renamed", "a dry run writes nothing")

        let beforeRollback = AuditJSON.time(Date())
        let rollback = try await world.cli("rollback", modifyID, "--reason", "typo", "--actor", "alice")
        #expect(rollback.status == 0, "\(rollback)")
        #expect(try await world.liveDocument("7")?.source["name"]?.stringValue == "Original")

        let (_, thenJSON) = try await world.cliJSON("history", "ARTIST#7", "--at", beforeRollback)
        #expect(thenJSON?["document"]?["name"]?.stringValue == "Renamed", "--at shows the document as it stood then")
        let (_, nowJSON) = try await world.cliJSON("history", "ARTIST#7", "--at", AuditJSON.time(Date()))
        #expect(nowJSON?["document"]?["name"]?.stringValue == "Original")

        let (show, showJSON) = try await world.cliJSON("show", modifyID)
        #expect(show.status == 0)
        #expect(showJSON?["status"]?.stringValue == "rolled_back")
        let lastAction = try #require(showJSON?["actions"]?.arrayValue?.last)
        #expect(lastAction["action"]?.stringValue == "rolled_back")
        #expect(lastAction["actor"]?.stringValue == "alice")
        #expect(lastAction["reason"]?.stringValue == "typo")

        let forced = try await world.cli("rollback", insertID, "--reason", "remove the artist", "--force")
        #expect(forced.status == 0, "\(forced)")
        #expect(try await world.liveDocument("7") == nil, "rolling back an insert deletes the document")

        let (audit, auditJSON) = try await world.cliJSON("history", "7")
        #expect(audit.status == 0)
        let kinds = try #require(auditJSON?["actions"]?.arrayValue).compactMap { $0["action"]?.stringValue }
        #expect(kinds.filter { $0 == "conflict" }.count == 1)
        #expect(kinds.filter { $0 == "rolled_back" }.count == 2)
        #expect(try await world.cli("verify").status == 0)
    }

    @Test("OpenSearch down parks nothing: the run pauses and exits 1, and the next run applies once it is back")
    func outageParksNothing() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("9", name: "Patient")
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "down")])
        let address = world.openSearchServer.address
        world.openSearchServer.stop()

        for _ in 1...2 {
            let run = try await world.cli("run", "--once", "--max-attempts", "1")
            #expect(run.status == 1, "an outage fails the run, for cron to alert: \(run)")
            #expect(run.stderr.contains("replay paused") && run.stderr.contains("no attempt counted"), "\(run)")
        }
        let (_, pending) = try await world.cliJSON("list", "--status", "pending")
        let change = try #require(pending?["changes"]?.arrayValue?.first)
        #expect(change["attempts"]?.intValue == 0, "an outage is not the change's fault")
        let (_, paused) = try await world.cliJSON("stats")
        #expect(paused?["replayPaused"]?["reason"]?.stringValue?.contains("search") == true, "\(String(describing: paused))")
        #expect(paused?["replayPaused"]?["since"]?.stringValue != nil)
        #expect(try await world.queueDepth() == 0, "the message was committed, so it is gone from the queue")

        let restarted = try await OSMemServer.start(address: address)
        defer { restarted.stop() }
        let run = try await world.cli("run", "--once")
        #expect(run.status == 0, "\(run)")
        #expect(try await world.liveDocument("9")?.source["name"]?.stringValue == "Patient")
        let (_, resumed) = try await world.cliJSON("stats")
        #expect(resumed?["replayPaused"] == .null, "a pass that got through clears the pause")
    }

    @Test("a document's own error parks it; errors groups it; retry applies it once the cause is fixed")
    func parkedRetryAfterMappingFixed() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("9", name: "Patient")
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "conflict")])
        try await world.openSearchServer.fixtures.refuseArtistDocuments(index: world.index)

        let run = try await world.cli("run", "--once", "--max-attempts", "1")
        #expect(run.status == 3, "a parked change needs an operator: \(run)")
        let (_, parked) = try await world.cliJSON("list", "--status", "parked")
        #expect(parked?["changes"]?.arrayValue?.count == 1)

        let (_, errorsJSON) = try await world.cliJSON("errors")
        let group = try #require(errorsJSON?["errors"]?.arrayValue?.first)
        #expect(group["error"]?.stringValue?.contains("mapper_parsing_exception") == true, "\(group)")
        #expect(group["count"]?.intValue == 1)
        #expect(group["statuses"]?["parked"]?.intValue == 1)
        let dryRun = try await world.cli("retry", "--error", "mapper_parsing", "--dry-run")
        #expect(dryRun.status == 0 && dryRun.stdout.contains("would_retry"), "\(dryRun)")

        try await world.openSearchServer.fixtures.recreateIndex(world.index)
        let (retry, retryJSON) = try await world.cliJSON("retry", "--status", "parked")
        #expect(retry.status == 0, "\(retry)")
        #expect(retryJSON?["results"]?.arrayValue?.first?["outcome"]?.stringValue == "applied")
        #expect(try await world.liveDocument("9")?.source["name"]?.stringValue == "Patient")
    }

    @Test("a run exits 0 at once while another holds the lease; two real runs apply each change once")
    func concurrentRuns() async throws {
        let world = try await ReprocessorWorld.start()
        for id in 1...8 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let records = try await world.streamRecords()
        try await world.send(
            stride(from: 0, to: records.count, by: 2).map {
                world.failedBatchBody(Array(records[$0..<min($0 + 2, records.count)]), requestID: "r\($0)")
            })

        let log = try AuditLog(path: world.auditDatabasePath)
        let lease = RunLease(auditLog: log, holder: "test-holder", ttl: .seconds(600))
        #expect(try await lease.acquire() != nil)
        let blocked = try await world.cli("run", "--once")
        #expect(blocked.status == 0)
        #expect(blocked.stdout.contains("test-holder"), "\(blocked)")
        #expect(try await world.queueDepth() == records.count / 2, "nothing was received")
        await lease.release()

        async let first = world.cli("run", "--once")
        async let second = world.cli("run", "--once")
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
        #expect(try await world.queueDepth() == 0)
        let audit = try await world.cli("audit", "--action", "applied", "--format", "json")
        #expect(try JSONValue(parsing: audit.stdout)["actions"]?.arrayValue?.count == records.count)
        let applied = try await log.listActions(ActionFilter(actions: [.applied]), after: nil, limit: 1000).rows
        #expect(applied.count == records.count)
        #expect(Set(applied.compactMap(\.changeID)).count == records.count, "no change applied twice")
    }

    @Test("a missing setting is one line naming the flag and the variable, exit 2")
    func missingSetting() async throws {
        let world = try await ReprocessorWorld.start()
        let output = try await world.cli("run", "--once", environment: ["OPENSEARCH_ENDPOINT": ""])
        #expect(output.status == 2, "\(output)")
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(output.stderr.contains("--opensearch") && output.stderr.contains("OPENSEARCH_ENDPOINT"))
    }

    @Test("a batch whose records left the stream is an expired batch with its info; run exits 3 until it is skipped")
    func expiredBatch() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("3", name: "Gone")
        let records = try await world.streamRecords()
        // A range past everything the shard holds, claiming records older than the stream's
        // retention (the fixture's arrival times are days old): what a trimmed batch looks like.
        var gone = records[0]
        gone.record.dynamodb.sequenceNumber = AWSFixtures.sequence(records[0].record.dynamodb.sequenceNumber, plus: 1_000_000)
        try await world.send([world.failedBatchBody([gone], requestID: "trimmed")])
        let run = try await world.cli("run", "--once")
        #expect(run.status == 3, "\(run)")
        #expect(try await world.queueDepth() == 0, "the message is stored as a batch and deleted")
        let (_, listJSON) = try await world.cliJSON("batches", "--status", "expired")
        let expired = try #require(listJSON?["batches"]?.arrayValue?.first)
        #expect(expired["batchInfo"]?["shardId"]?.stringValue == records[0].shardID)
        #expect(expired["startSequenceNumber"]?.stringValue == gone.record.dynamodb.sequenceNumber.digits)
        #expect(expired["lastError"]?.stringValue?.contains("24-hour retention") == true, "\(expired)")
        let (_, statsJSON) = try await world.cliJSON("stats")
        #expect(statsJSON?["batches"]?["expired"]?.intValue == 1)
        #expect(try await world.cli("list", "--status", "expired").stdout.contains("expired") == false, "no placeholder change")
        let id = try #require(expired["id"]?.intValue)
        let skip = try await world.cli("skip-batch", String(id), "--reason", "artist re-synced by hand")
        #expect(skip.status == 0, "\(skip)")
        #expect(try await world.cli("run", "--once").status == 0, "nothing left for an operator")
    }

    @Test("resync makes the document match the table's current item, never moving its sequence back")
    func resyncFromTable() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("4", name: "Before")
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "first")])
        #expect(try await world.cli("run", "--once").status == 0)
        let applied = try #require(try await world.liveDocument("4"))
        // The table moves on without the stream reaching search (the Lambda lost it).
        try await world.putArtist("4", name: "After", rating: "3.1")
        let (_, listJSON) = try await world.cliJSON("list", "--key", "4")
        let id = try #require(listJSON?["changes"]?.arrayValue?.first?["id"]?.intValue)

        let (resync, resultJSON) = try await world.cliJSON("resync", String(id), "--reason", "table is the truth")
        #expect(resync.status == 0, "\(resync)")
        #expect(resultJSON?["results"]?.arrayValue?.first?["outcome"]?.stringValue == "resynced")
        let live = try #require(try await world.liveDocument("4"))
        let item = try #require(try await world.currentArtist("4"))
        #expect(ReprocessorWorld.content(live.source) == world.expectedContent(item))
        #expect(SyncTransform.syncedSequenceNumber(in: live.source) == SyncTransform.syncedSequenceNumber(in: applied.source))

        try await world.deleteArtist("4")
        #expect(try await world.cli("resync", String(id)).status == 0)
        #expect(try await world.liveDocument("4") == nil, "an item gone from the table is deleted from search")
    }

    @Test("JSON logs carry change and correlation ids and never a secret")
    func jsonLogs() async throws {
        let world = try await ReprocessorWorld.start()
        try await world.putArtist("5", name: "Logged")
        let records = try await world.streamRecords()
        try await world.send([world.failedBatchBody(records, requestID: "corr-logs-1")])
        let secret = "s3cr3t-value-that-must-not-leak"
        let run = try await world.cli(
            "run", "--once", "--log-format", "json", "--log-level", "info",
            environment: ["AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "token-that-must-not-leak"])
        #expect(run.status == 0, "\(run)")
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        let parsed = try lines.map { try JSONValue(parsing: $0) }
        let applied = try #require(parsed.first { $0["message"]?.stringValue?.hasPrefix("change applied") == true })
        #expect(applied["changeId"]?.stringValue != nil)
        #expect(applied["correlationId"]?.stringValue == "corr-logs-1")
        #expect(!run.stderr.contains(secret) && !run.stdout.contains(secret))
        #expect(!run.stderr.contains("token-that-must-not-leak"))
    }
}
