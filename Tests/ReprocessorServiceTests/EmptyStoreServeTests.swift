import Foundation
import OpenSearchClient
import StreamModel
import TestSupport
import Testing

extension ServeTests {
    /// `serve` started on a store nobody has used yet: no lease row, no leader.
    @Suite("serve: from an empty store")
    struct EmptyStoreServeTests {
        @Test("two serves on a new PostgreSQL store: one takes the lease, the batches they drain are read and applied")
        func fleetOnANewSharedStore() async throws {
            let world = try await ReprocessorWorld.start()
            let database = try await SharedPostgresServer.newDatabase()
            let bodies = try await world.seedFailedBatches(artists: 6)
            try await world.send(bodies)

            let environment = ["AUDIT_DB": database, "DLQ_LEASE_TTL": "6"]
            let first = try await RunningService.start(world, environment: environment)
            defer { first.process.stop() }
            let second = try await RunningService.start(world, environment: environment)
            defer { second.process.stop() }

            try await first.eventually("every batch is read and every artist is in search", timeout: .seconds(120)) {
                let stats = try await first.get("/v1/stats")
                guard stats.json?["batches"]?["read"]?.numberText == String(bodies.count) else { return false }
                for id in 1...6 where try await world.liveDocument("\(id)") == nil { return false }
                return true
            }
            let holders = [first, second].filter { service in
                service.process.recentOutput.contains { $0.contains("holding the run lease") }
            }
            #expect(holders.count == 1, "exactly one serve leads")
            let stats = try await first.get("/v1/stats")
            #expect(stats.json?["runLease"]?["epoch"]?.numberText == "1", "\(stats)")
            #expect(stats.json?["runLease"]?["held"]?.boolValue == true, "\(stats)")
        }
    }
}
