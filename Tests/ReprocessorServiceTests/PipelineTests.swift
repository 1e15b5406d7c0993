import AWSClients
import AuditLog
import Foundation
import OpenSearchClient
import StreamModel
import Synchronization
import TestSupport
import Testing

extension ServeTests {
    /// `serve` during a live outage: the DLQ keeps receiving while batches wait to be read.
    @Suite("serve: a pipeline under a steady inflow")
    struct PipelineTests {
        @Test("batches stored while the DLQ keeps filling are read and applied while the inflow goes on")
        func batchesAreReadDuringInflow() async throws {
            let world = try await ReprocessorWorld.start()
            let bodies = try await world.seedFailedBatches(artists: 6, arrivedAt: Date())
            // Long polls of 20 s, as in production: a drain returns only when a receive comes back empty.
            let service = try await RunningService.start(
                world, arguments: ["--wait", "20"], environment: ConsoleFixture.tokens)
            defer { service.process.stop() }

            // A failing Lambda on a busy table: the same batches arrive again and again, a few a second.
            let producer = Self.keepSending(bodies, to: world)
            defer { producer.cancel() }

            try await service.eventually("every artist is applied while the inflow goes on", timeout: .seconds(90)) {
                for id in 1...6 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
            // Freshness: the sent → applied lag of every applied change is in the histogram.
            try await service.eventually("the lag of each applied change is recorded") {
                (try await service.metric("dlq_change_lag_seconds_count") ?? 0) >= 6
            }
            let lagSum = try #require(try await service.metric("dlq_change_lag_seconds_sum"))
            #expect(lagSum > 0 && lagSum < 6 * 90, "six lags, each under the test's bound: \(lagSum)")
            #expect(
                try await service.metric("dlq_batch_retention_left_seconds") == 86_400,
                "no batch pending: a whole retention left")
            // The console's overview shows the same: no batch waiting, and the freshness of the applies.
            let browser = ConsoleBrowser(baseURL: service.baseURL)
            #expect(try await browser.logIn(ConsoleFixture.readerToken).status == 303)
            let overview = try await browser.get("/ui")
            #expect(overview.status == 200, "\(overview)")
            #expect(overview.body.contains("no batch waiting"), "\(overview.body)")
            #expect(overview.body.contains("(last 6 applied)"), "\(overview.body)")
            let stats = try await service.get("/v1/stats")
            #expect(stats.json?["batches"]?["pending"]?.numberText == "0", "\(stats)")
            #expect(stats.json?["batches"]?["read"]?.numberText == String(bodies.count), "\(stats)")
        }

        @Test("two serves on a shared PostgreSQL store read and apply the batches while the DLQ keeps filling")
        func fleetKeepsPaceDuringInflow() async throws {
            let world = try await ReprocessorWorld.start()
            let bodies = try await world.seedFailedBatches(artists: 6, requestPrefix: "fleet-", arrivedAt: Date())
            let environment = ["AUDIT_DB": try await SharedPostgresServer.newDatabase(), "DLQ_LEASE_TTL": "6"]
            let first = try await RunningService.start(world, arguments: ["--wait", "20"], environment: environment)
            defer { first.process.stop() }
            let second = try await RunningService.start(world, arguments: ["--wait", "20"], environment: environment)
            defer { second.process.stop() }

            let producer = Self.keepSending(bodies, to: world)
            defer { producer.cancel() }
            try await first.eventually("every artist is applied while the inflow goes on", timeout: .seconds(90)) {
                for id in 1...6 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
            let stats = try await first.get("/v1/stats")
            #expect(stats.json?["batches"]?["pending"]?.numberText == "0", "\(stats)")
            #expect(stats.json?["batches"]?["read"]?.numberText == String(bodies.count), "\(stats)")
        }

        @Test("in a fleet a worker that does not lead reads batches too: with the lease held elsewhere, it reads them all")
        func followerReadsBatches() async throws {
            let world = try await ReprocessorWorld.start()
            let bodies = try await world.seedFailedBatches(artists: 8, requestPrefix: "follower-", arrivedAt: Date())
            let database = try await SharedPostgresServer.newDatabase()
            // Another worker leads, with a lease that outlives the test: this serve cannot lead meanwhile.
            let log = try await AuditLog(location: database)
            let lease = try await log.takeLease(
                name: "run", holder: "leader-elsewhere", ttl: .seconds(3600), lockHeld: false, now: Date())
            #expect(lease != nil, "the test's worker leads")
            let follower = try await RunningService.start(
                world, arguments: ["--wait", "1"], environment: ["AUDIT_DB": database, "DLQ_LEASE_TTL": "3600"])
            defer { follower.process.stop() }

            try await world.send(bodies)
            try await follower.eventually("every batch is read and every artist applied", timeout: .seconds(90)) {
                let stats = try await follower.get("/v1/stats")
                guard stats.json?["batches"]?["read"]?.numberText == String(bodies.count) else { return false }
                for id in 1...8 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
            let stats = try await follower.get("/v1/stats")
            #expect(
                stats.json?["runLease"]?["holder"]?.stringValue == "leader-elsewhere",
                "the other worker still leads: \(stats)")
        }

        @Test("a batch past half its stream's retention is read before anything more is drained")
        func urgentBatchTakesPriorityOverDraining() async throws {
            let world = try await ReprocessorWorld.start()
            for id in 1...40 { try await world.putArtist("\(id)", name: "Artist \(id)") }
            let records = try await world.streamRecords()
            // A pointer to 30 records that reached the stream 13 hours ago, stored by an earlier
            // drain and not yet read; batchSize 1 makes reading it 30 GetRecords calls.
            let lastRecordAt = Date().addingTimeInterval(-13 * 3600)
            let body = world.failedBatchBody(
                Array(records[0..<30]), requestID: "urgent", batchSize: 1, arrivedAt: lastRecordAt)
            let auditLog = try AuditLog(path: world.auditDatabasePath)
            let batchID = try await world.storeUnreadBatch(
                body, messageID: "urgent-pointer", lastRecordAt: lastRecordAt, in: auditLog)
            // Meanwhile the DLQ holds ten more messages, forwarded records of other artists.
            try await world.send(
                records[30..<40].map {
                    world.forwardedBody([$0.record], correlationID: "later-\($0.record.dynamodb.sequenceNumber.digits)")
                })

            let service = try await RunningService.start(world, arguments: ["--wait", "1"])
            defer { service.process.stop() }
            try await service.eventually("the batch is read and the ten messages are stored", timeout: .seconds(90)) {
                let stats = try await auditLog.stats()
                return try await auditLog.batch(id: batchID)?.status == .read && stats.messagesTotal == 11
            }
            let readAt = try #require(try await auditLog.batch(id: batchID)?.updatedAt)
            // Nothing of the ten forwarded records was stored before the batch had been read.
            let changes = try await auditLog.listChanges(ChangeFilter(), after: nil, limit: 100).rows
            let forwarded = changes.filter { (31...40).map { "\($0)" }.contains($0.documentID ?? "") }
            #expect(forwarded.count == 10, "\(forwarded.count) of the ten forwarded changes")
            for change in forwarded {
                #expect(
                    change.createdAt >= readAt,
                    "change \(change.id) stored at \(change.createdAt), before the urgent batch was read at \(readAt)")
            }
            #expect(
                service.process.recentOutput.contains { $0.contains("draining waits: batch \(batchID)") },
                "the log says why the drain waited")
            try await service.eventually("the drain no longer yields") {
                try await service.metric("dlq_drain_yielding") == 0
            }
            try await service.eventually("every artist is applied") {
                for id in 1...40 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
        }

        @Test("SIGTERM while the DLQ keeps filling and batches are read: exit 0, every message stored or still in SQS")
        func stopDuringInflow() async throws {
            let world = try await ReprocessorWorld.start(visibilityTimeoutSeconds: 5)
            for id in 1...6 { try await world.putArtist("\(id)", name: "Artist \(id)") }
            let records = try await world.streamRecords()
            let service = try await RunningService.start(world, arguments: ["--wait", "20"])
            defer { service.process.stop() }

            // Format A and B alternating, each message its own (a new request id, a new correlation id).
            let sent = Counter()
            let producer = Task {
                while !Task.isCancelled {
                    let number = sent.value
                    let record = records[number % records.count]
                    let body =
                        number % 2 == 0
                        ? world.failedBatchBody([record], requestID: "stop-\(number)", arrivedAt: Date())
                        : world.forwardedBody([record.record], correlationID: "stop-\(number)")
                    try await world.send([body])
                    sent.add()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try await service.eventually("the service has stored some of the inflow", timeout: .seconds(60)) {
                (try await service.metric("dlq_messages_ingested_total") ?? 0) >= 10
            }
            service.process.send(signal: SIGTERM)
            let exit = await service.process.waitForExit(timeout: .seconds(60))
            producer.cancel()
            _ = await producer.result
            #expect(exit?.status == 0 && exit?.killedBySignal == false, "\(String(describing: exit))")

            // Whatever was received and not committed reappears once its visibility timeout (5 s) passes.
            let total = sent.value
            let auditLog = try AuditLog(path: world.auditDatabasePath)
            try await service.eventually("each message is in the audit log or visible on the queue", timeout: .seconds(60)) {
                let stored = try await auditLog.stats().messagesTotal
                let counts = try await world.sqs.approximateMessageCounts(queueURL: world.queueURL)
                return counts.inFlight == 0 && stored + counts.visible == total
            }
            let verify = try await world.cli("verify")
            #expect(verify.status == 0, "\(verify)")
        }
    }
}

extension ServeTests.PipelineTests {
    /// A failing Lambda on a busy table: `bodies` sent to the DLQ again and again, in turn, four a
    /// second, until the task is cancelled.
    static func keepSending(_ bodies: [String], to world: ReprocessorWorld) -> Task<Void, any Error> {
        Task {
            var sent = 0
            while !Task.isCancelled {
                try await world.send([bodies[sent % bodies.count]])
                sent += 1
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}

/// A count the producer task and the test share.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
