import AuditLog
import Foundation
import Logging
import Reprocessor
import StreamModel
import TestSupport
import Testing

@Suite("a fleet's claims: operator actions, reconcile and batch reads")
struct FleetClaimTests {
    @Test("on a shared store, retry of a document another worker holds is a conflict; once released it is applied")
    func retryWaitsForTheClaim() async throws {
        let world = try await ReprocessorWorld.start()
        let database = try await SharedPostgresServer.newDatabase()
        let environment = ["AUDIT_DB": database]
        try await world.putArtist("7", name: "Held")
        let records = try await world.streamRecords()
        try await world.send([world.forwardedBody(records.map(\.record))])
        let ingest = try await world.cli("ingest", "--wait", "0", environment: environment)
        #expect(ingest.status == 0, "\(ingest)")

        let log = try await AuditLog(location: database)
        let change = try #require(try await log.listChanges(ChangeFilter(), after: nil, limit: 10).rows.first)
        let held = try await log.claimDocuments(["7"], holder: "another-worker", ttl: .seconds(300), now: Date())
        #expect(held.holds("7"))

        let refused = try await world.cli("retry", String(change.id), "--json", environment: environment)
        let refusedResult = try JSONValue(parsing: refused.stdout)["results"]?.arrayValue?.first
        #expect(refusedResult?["outcome"]?.stringValue == "conflict", "\(refused)")
        #expect(refusedResult?["message"]?.stringValue?.contains("another worker is writing document 7") == true, "\(refused)")
        #expect(try await world.liveDocument("7") == nil)
        #expect(try await log.change(id: change.id)?.status == .pending)

        try await log.releaseClaims(held)
        let retried = try await world.cli("retry", String(change.id), "--json", environment: environment)
        #expect(
            try JSONValue(parsing: retried.stdout)["results"]?.arrayValue?.first?["outcome"]?.stringValue == "applied",
            "\(retried)")
        #expect(try await world.liveDocument("7") != nil)
        #expect(try await log.claimHolder(of: "7", now: Date()) == nil, "the CLI released its claim")
    }

    @Test("on a shared store, reconcile --repair leaves a document another worker holds, and repairs it once released")
    func reconcileLeavesHeldDocuments() async throws {
        let world = try await ReprocessorWorld.start()
        let database = try await SharedPostgresServer.newDatabase()
        let environment = ["AUDIT_DB": database]
        // Three artists the table has and search lacks: each is missing from search.
        for id in ["1", "2", "3"] { try await world.putArtist(id, name: "artist \(id)") }
        let log = try await AuditLog(location: database)
        let held = try await log.claimDocuments(["2"], holder: "another-worker", ttl: .seconds(300), now: Date())
        #expect(held.holds("2"))

        let first = try await world.cli("reconcile", "--repair", "--reason", "fleet", "--json", environment: environment)
        let report = try JSONValue(parsing: first.stdout)
        #expect(first.status == 3, "drift is left: \(first)")
        #expect(report["missing"]?.intValue == 3 && report["repaired"]?.intValue == 2, "\(report)")
        #expect(report["conflicts"]?.intValue == 1, "the held document is left to its holder: \(report)")
        #expect(try await world.liveDocument("1") != nil)
        #expect(try await world.liveDocument("3") != nil)
        #expect(try await world.liveDocument("2") == nil)
        #expect(
            try await log.openWriteIntents(recordedBefore: Date(), limit: 10).filter { $0.intent.repair != nil }.isEmpty,
            "no intent for the held document")
        #expect(try await log.claimHolder(of: "1", now: Date()) == nil, "reconcile gave its claims back")
        #expect(try await log.claimHolder(of: "2", now: Date()) == "another-worker")

        try await log.releaseClaims(held)
        let second = try await world.cli("reconcile", "--repair", "--reason", "fleet", "--json", environment: environment)
        let again = try JSONValue(parsing: second.stdout)
        #expect(second.status == 0, "\(second)")
        #expect(again["missing"]?.intValue == 1 && again["repaired"]?.intValue == 1 && again["conflicts"]?.intValue == 0)
        #expect(try await world.liveDocument("2") != nil)
        let verify = try await world.cli("verify", environment: environment)
        #expect(verify.status == 0, "\(verify)")
    }

    @Test("on a shared store, a batch another worker is reading is left to it; once released it is read, once")
    func batchReadsAreClaimed() async throws {
        let world = try await ReprocessorWorld.start()
        let database = try await SharedPostgresServer.newDatabase()
        for id in 1...3 { try await world.putArtist("\(id)", name: "Artist \(id)") }
        let records = try await world.streamRecords()
        let body = world.failedBatchBody(records, requestID: "claimed", arrivedAt: Date())
        let log = try await AuditLog(location: database)
        let batchID = try await world.storeUnreadBatch(body, messageID: "pointer", lastRecordAt: Date(), in: log)

        var environment = world.environment()
        environment["AUDIT_DB"] = database
        let reprocessor = try await Reprocessor.open(
            settings: try ReprocessorSettings.resolve(.init(), environment: environment), environment: environment,
            logger: Logger(label: "fleet", factory: { _ in SwiftLogNoOpLogHandler() }))
        let ingestor = try await reprocessor.makeIngestor(options: IngestOptions())
        let reader = BatchReader(holder: "this-worker/batches", ttl: .seconds(300))

        // Another worker is reading the batch: this one leaves it alone.
        let held = try await log.claimDocuments(
            ["batch:\(batchID)"], holder: "another-worker/batches", ttl: .seconds(300), now: Date())
        #expect(held.holds("batch:\(batchID)"))
        let left = try await ingestor.readPendingBatches(reader: reader)
        #expect(left.batchesRead == 0 && left.changesStored == 0, "\(left)")
        #expect(try await log.batch(id: batchID)?.status == .pending)

        // Released: this worker reads it, and gives its claim back.
        try await log.releaseClaims(held)
        let read = try await ingestor.readPendingBatches(reader: reader)
        #expect(read.batchesRead == 1 && read.changesStored == 3, "\(read)")
        #expect(try await log.batch(id: batchID)?.status == .read)
        #expect(try await log.claimHolder(of: "batch:\(batchID)", now: Date()) == nil, "the reader released its claim")
    }
}
