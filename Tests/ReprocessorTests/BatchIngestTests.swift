import AWSClients
import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

/// Failed batches (format A) through SQS and the real executable, with moto's stream behind a
/// FaultProxy for the faults moto cannot produce (throttling, access denied, empty pages).
@Suite("batches end to end")
struct BatchIngestTests {
    /// A world with `artists` artists written, and a proxy in front of moto for DynamoDB Streams only.
    struct Setup {
        let world: ReprocessorWorld
        let proxy: FaultProxy
        let records: [(shardID: String, record: StreamRecord)]

        static func start(artists: Int) async throws -> Setup {
            let world = try await ReprocessorWorld.start()
            for id in 1...artists { try await world.putArtist("\(id)", name: "Artist \(id)") }
            let records = try await world.streamRecords()
            let proxy = try await FaultProxy.start(upstream: world.moto.url)
            return Setup(world: world, proxy: proxy, records: records)
        }

        /// The executable's environment: streams through the proxy, batches due again at once.
        var environment: [String: String] {
            ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS": proxy.url.absoluteString, "DLQ_BATCH_RETRY_SECONDS": "0"]
        }

        func ingest() async throws -> CommandRunner.Output {
            try await world.cli("ingest", "--wait", "0", "--json", environment: environment)
        }

        func stats() async throws -> AuditStats {
            try await AuditLog(path: world.auditDatabasePath).stats()
        }

        func changes() async throws -> [ChangeRecord] {
            try await AuditLog(path: world.auditDatabasePath).listChanges(ChangeFilter(), after: nil, limit: 1000).rows
        }

        func batches() async throws -> [BatchRecord] {
            try await AuditLog(path: world.auditDatabasePath).listBatches(limit: 1000).rows
        }
    }

    @Test("finding 1, both orders: a forwarded record S and the batch [S..E] are both kept, and S+1..E are stored")
    func forwardedRecordAndBatch() async throws {
        for forwardedFirst in [true, false] {
            let setup = try await Setup.start(artists: 5)
            let forwarded = setup.world.forwardedBody([setup.records[0].record], correlationID: "forwarded-S")
            let batch = setup.world.failedBatchBody(setup.records, requestID: "batch-S-E", arrivedAt: Date())
            for body in forwardedFirst ? [forwarded, batch] : [batch, forwarded] {
                try await setup.world.send([body])
                let ingest = try await setup.ingest()
                #expect(ingest.status == 0, "\(ingest)")
            }
            let changes = try await setup.changes()
            #expect(
                Set(changes.map(\.sequenceNumber)) == Set(setup.records.map(\.record.dynamodb.sequenceNumber)),
                "every record of the range is a change (forwarded first: \(forwardedFirst))")
            #expect(changes.count == setup.records.count, "none stored twice")
            #expect(changes.allSatisfy { $0.status == .pending && $0.newImage != nil }, "S keeps its images")
            let stats = try await setup.stats()
            #expect(
                stats.batches == [.pending: 0, .read: 1, .expired: 0, .skipped: 0, .resolved: 0], "the batch row is kept, read")
            #expect(stats.messagesTotal == 2)
            #expect(try await setup.world.cli("verify").status == 0)
        }
    }

    @Test("streams failing for longer than 5 receives, then recovering: every record ingested, nothing expired")
    func transientStreamFailures() async throws {
        let setup = try await Setup.start(artists: 6)
        try await setup.world.send([
            setup.world.failedBatchBody(setup.records, requestID: "during-outage", arrivedAt: Date())
        ])
        let json = ["content-type": "application/x-amz-json-1.0"]
        let outages = [
            ("ThrottlingException", "Rate exceeded"), ("AccessDeniedException", "role being fixed"),
            ("ExpiredTokenException", "The security token included in the request is expired"),
            ("InternalServerError", "boom"),
        ]
        for pass in 0..<7 {
            let (type, message) = outages[pass % outages.count]
            setup.proxy.clearFaults()
            setup.proxy.fail(
                amzTarget: "DynamoDBStreams", times: nil, status: type == "InternalServerError" ? 500 : 400,
                body: FaultProxy.awsJSONErrorBody(type: type, message: message), headers: json)
            let ingest = try await setup.ingest()
            #expect(ingest.status == 0, "pass \(pass), \(type): only delayed, \(ingest)")
            let batch = try #require(try await setup.batches().first)
            #expect(batch.status == .pending, "pass \(pass): \(batch)")
            #expect(batch.attempts == pass + 1)
            #expect(batch.lastError?.contains(type) == true, "pass \(pass): \(batch.lastError ?? "no error")")
        }
        #expect(try await setup.world.queueDepth() == 0, "the message left the queue on the first pass")
        #expect(try await setup.changes().isEmpty)

        setup.proxy.clearFaults()
        let recovered = try await setup.ingest()
        #expect(recovered.status == 0, "\(recovered)")
        let changes = try await setup.changes()
        #expect(changes.count == setup.records.count, "every record ingested")
        let stats = try await setup.stats()
        #expect(stats.batches == [.pending: 0, .read: 1, .expired: 0, .skipped: 0, .resolved: 0])
        #expect(stats.oldestWaitingBatchSince == nil)
    }

    @Test("empty pages in the middle of a range: the pass that runs out of them stops short, the next stores the rest")
    func emptyPagesInTheMiddle() async throws {
        let setup = try await Setup.start(artists: 10)
        try await setup.world.send([
            setup.world.failedBatchBody(setup.records, requestID: "sparse", batchSize: 3, arrivedAt: Date())
        ])
        // After the first page of 3, more empty pages than one pass follows (10 in a row).
        setup.proxy.answerEmptyStreamPages(times: 14, after: 1)
        let first = try await setup.ingest()
        #expect(first.status == 0, "\(first)")
        #expect(try await setup.changes().count == 3, "the first page is committed; the rest is not taken as read")
        let waiting = try #require(try await setup.batches().first)
        #expect(waiting.status == .pending)
        #expect(waiting.lastReadSequenceNumber == setup.records[2].record.dynamodb.sequenceNumber)

        let second = try await setup.ingest()
        #expect(second.status == 0, "\(second)")
        #expect(try await setup.changes().count == setup.records.count, "the full range is stored")
        #expect(try await setup.batches().first?.status == .read)
    }

    @Test("a forged range of 1,000,000 sequence numbers is read a bounded number of pages per pass and ends expired")
    func forgedRange() async throws {
        let setup = try await Setup.start(artists: 4)
        let start = setup.records[0].record.dynamodb.sequenceNumber
        let end = AWSFixtures.sequence(start, plus: 1_000_000)
        try await setup.world.send([
            setup.world.failedBatchBody(
                [setup.records[0]], requestID: "forged-recent", end: end, batchSize: 2, arrivedAt: Date())
        ])
        let first = try await setup.ingest()
        #expect(first.status == 0, "\(first)")
        let getRecords = setup.proxy.requests.filter { $0.header("x-amz-target")?.hasSuffix(".GetRecords") == true }
        #expect(getRecords.count <= 2 + 10, "records pages plus one pass's empty pages: \(getRecords.count)")
        #expect(try await setup.changes().count == setup.records.count, "what the shard holds of the range is stored")
        let pending = try #require(try await setup.batches().first)
        #expect(pending.status == .pending, "caught up with the shard, not complete: \(pending)")
        #expect(pending.lastError?.contains("caught up") == true)

        // The same range claimed by records older than the stream keeps: it can never complete.
        let old = Date().addingTimeInterval(-25 * 3600)
        try await setup.world.send([
            setup.world.failedBatchBody(
                [setup.records[0]], requestID: "forged-old", end: AWSFixtures.sequence(end, plus: 1), batchSize: 2,
                arrivedAt: old)
        ])
        let second = try await setup.ingest()
        #expect(second.status == 3, "an expired batch waits for an operator: \(second)")
        let batches = try await setup.batches()
        let expired = try #require(batches.first { $0.status == .expired })
        #expect(expired.lastError?.contains("24-hour retention") == true, "\(expired)")
        #expect(try await setup.changes().count == setup.records.count, "nothing stored twice")
    }
}
