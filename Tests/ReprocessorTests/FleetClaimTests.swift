import AuditLog
import Foundation
import StreamModel
import TestSupport
import Testing

@Suite("a fleet's claims: operator actions")
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
}
